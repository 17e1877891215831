using Modal.Api.Web;

namespace Modal.Platform.Tests.Unit;

public sealed class WebEndpointNamesTests
{
    [Theory]
    [InlineData("main", "my_app", "Model.Generate", null, false, "main--my-app-model-generate")]
    [InlineData("main", "shop", "f", "checkout", false, "main--shop-checkout")]
    [InlineData("main", "shop", "f", null, true, "main--shop-f-dev")]
    [InlineData("Team", "a..b", "__x__", null, false, "team--a-b-x")]
    public void HostLabel_Names_AreLowercaseAndHostSafe(string workspace, string app, string function, string? label, bool ephemeral, string expected) =>
        Assert.Equal(expected, WebEndpointNames.HostLabel(workspace, app, function, label, ephemeral));

    [Fact]
    public void HostLabel_LongerThan63_IsCutAndEndsInAHashOfTheWhole()
    {
        var a = WebEndpointNames.HostLabel("main", new string('a', 60), "first", null, false);
        var b = WebEndpointNames.HostLabel("main", new string('a', 60), "second", null, false);

        Assert.Equal(63, a.Length);
        Assert.NotEqual(a, b);
        Assert.Matches("^main--a+-[0-9a-f]{8}$", a);
        Assert.Equal(a, WebEndpointNames.HostLabel("main", new string('a', 60), "first", null, false));
    }

    [Theory]
    [InlineData("main--app-f.modal.localhost", "main--app-f")]
    [InlineData("MAIN--app-f.modal.localhost:8443", "MAIN--app-f")]
    [InlineData("main--app-f.modal.localhost.", "main--app-f")]
    [InlineData("modal.localhost", null)]
    [InlineData("x.y.modal.localhost", null)]
    [InlineData("api.example.com", null)]
    [InlineData("xmodal.localhost", null)]
    [InlineData("[::1]:8080", null)]
    public void TryGetHostLabel_OnlyOneLabelUnderTheBaseDomain(string host, string? expected)
    {
        var found = WebEndpointNames.TryGetHostLabel(host, "modal.localhost", out var label);

        Assert.Equal(expected is not null, found);
        Assert.Equal(expected ?? "", label.ToString());
    }

    [Fact]
    public void Urls_HostAndPathForms_KeepTheIngressSchemeAndPort()
    {
        Assert.Equal("https://main--app-f.modal.localhost:8443/", WebEndpointNames.HostUrl("main--app-f", "modal.localhost", new Uri("https://127.0.0.1:8443")));
        Assert.Equal("https://main--app-f.apps.example.com/", WebEndpointNames.HostUrl("main--app-f", "apps.example.com", new Uri("https://api.example.com")));
        Assert.Equal("https://api.example.com/modal/web/main--app-f/", WebEndpointNames.PathUrl("main--app-f", new Uri("https://api.example.com/modal/")));
    }

    [Theory]
    [InlineData("System.Int32[]", "System.Int32")]
    [InlineData("System.Collections.Generic.List`1[[System.Double, System.Private.CoreLib, Version=10.0.0.0]]", "System.Double")]
    [InlineData("System.Collections.Generic.IReadOnlyList`1[[System.String, System.Private.CoreLib]]", "System.String")]
    [InlineData("System.Int32", null)]
    public void ElementType_ArraysAndLists(string type, string? element) => Assert.Equal(element, WebArguments.ElementType(type));
}
