namespace Modal;

/// <summary>
/// Marks a method of a class registered with <see cref="App.Cls{T}"/> as callable remotely, as Modal's
/// <c>@modal.method()</c>. It becomes the function <c>ClassName.MethodName</c>; all methods of a class share its
/// containers, and so its instance and whatever <see cref="EnterAttribute"/> hooks loaded.
/// </summary>
[AttributeUsage(AttributeTargets.Method, Inherited = false)]
public sealed class MethodAttribute : Attribute;

/// <summary>
/// Runs once in each container, after the instance is created and before its first input, as Modal's
/// <c>@modal.enter()</c>: load a model, open a connection. The method takes no parameters and returns
/// <see langword="void"/> or <see cref="Task"/>.
/// </summary>
[AttributeUsage(AttributeTargets.Method, Inherited = false)]
public sealed class EnterAttribute : Attribute;

/// <summary>
/// Runs once when a container stops (scale-down, app stop, redeploy), after its last input, as Modal's
/// <c>@modal.exit()</c>. The method takes no parameters and returns <see langword="void"/> or <see cref="Task"/>.
/// </summary>
[AttributeUsage(AttributeTargets.Method, Inherited = false)]
public sealed class ExitAttribute : Attribute;
