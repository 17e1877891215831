namespace Modal.Platform.Tests.Unit;

public sealed class ClsTests
{
    private sealed class Greeter
    {
        public string Greeting { get; set; } = "hi";

        [Method]
        public string Greet(string name, int times) => string.Concat(Enumerable.Repeat($"{Greeting} {name} ", times));

        public string NotRemote() => Greeting;
    }

    private sealed class NoMethods
    {
        public int Value { get; set; }
    }

    private sealed class BadEnter
    {
        private int _size;

        [Enter]
        public int Load(int size) => _size = size;

        [Method]
        public int Get() => _size;
    }

    private sealed class NoDefaultConstructor(int value)
    {
        [Method]
        public int Get() => value;
    }

    [Fact]
    public void Parse_MethodCallWithCapturedAndComputedArguments_EvaluatesThemHere()
    {
        var name = "ada";
        var (method, values) = Cls<Greeter>.Parse((System.Linq.Expressions.Expression<Func<Greeter, string>>)(g => g.Greet(name, 1 + 2)));

        Assert.Equal(nameof(Greeter.Greet), method.Name);
        Assert.Equal(["ada", 3], values);
    }

    [Fact]
    public void Parse_MethodNotMarked_ThrowsNamingIt()
    {
        var error = Assert.Throws<ArgumentException>(() =>
            Cls<Greeter>.Parse((System.Linq.Expressions.Expression<Func<Greeter, string>>)(g => g.NotRemote())));

        Assert.Contains("Greeter.NotRemote", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_ArgumentUsesTheInstance_ThrowsBecauseItHasNoValueHere()
    {
        var error = Assert.Throws<ArgumentException>(() =>
            Cls<Greeter>.Parse((System.Linq.Expressions.Expression<Func<Greeter, string>>)(g => g.Greet(g.Greeting, 1))));

        Assert.Contains("must not use the instance", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Cls_RegistersEachMethodAsClassDotMethodWithItsParameters()
    {
        var app = new App("cls-test");

        app.Cls<Greeter>();

        var function = Assert.Single(app.Functions);
        Assert.Equal("Greeter.Greet", function.Name);
        Assert.Equal(["name", "times"], function.Parameters.Select(p => p.Name));
        Assert.Equal("Greeter", app.Describe().Functions.Single().ClassName);
    }

    [Theory]
    [InlineData(typeof(NoMethods), "has no [Method]")]
    [InlineData(typeof(BadEnter), "must take no parameters")]
    [InlineData(typeof(NoDefaultConstructor), "parameterless constructor")]
    public void ClassDefinition_ClassThatCannotRunRemotely_ThrowsSayingWhy(Type type, string reason)
    {
        var error = Assert.Throws<ArgumentException>(() => new ClassDefinition(type, new FunctionOptions()));

        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task LocalInvoke_ClassMethod_EntersOnceThenCalls()
    {
        var app = new App("cls-local");
        app.Cls<Greeter>();
        var greet = app.Functions.Single();

        var first = await greet.InvokeAsync(["bo", 2]);
        var second = await greet.InvokeAsync(["al", 1]);

        Assert.Equal("hi bo hi bo ", first);
        Assert.Equal("hi al ", second);
    }
}
