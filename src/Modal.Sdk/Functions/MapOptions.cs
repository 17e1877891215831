namespace Modal;

/// <summary>How a map returns its outputs, as Modal's <c>map(order_outputs=…, return_exceptions=…)</c>.</summary>
public sealed record MapOptions
{
    /// <summary>Outputs in input order (default); false yields each as soon as it is in, with its <see cref="MapResult{TResult}.Index"/>.</summary>
    public bool OrderOutputs { get; init; } = true;

    /// <summary>
    /// Failed inputs come back as results with <see cref="MapResult{TResult}.Exception"/> set; false (default) throws the
    /// first failure (and cancels the rest of the map).
    /// </summary>
    public bool ReturnExceptions { get; init; }

    /// <summary>
    /// Inputs sent but not yet answered, at most (default 10,000): what bounds the client's memory however large the map,
    /// and, with ordered outputs, how far results may run ahead of a slow input.
    /// </summary>
    public int MaxInputsInFlight { get; init; } = 10_000;

    internal void Validate()
    {
        if (MaxInputsInFlight is < 1 or > 100_000)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxInputsInFlight), MaxInputsInFlight, "MaxInputsInFlight must be between 1 and 100,000.");
        }
    }
}

/// <summary>One output of a map: the input's position and its result, or, with <see cref="MapOptions.ReturnExceptions"/>, its failure.</summary>
/// <typeparam name="TResult">The function's result type.</typeparam>
/// <param name="Index">The input's position in the map (0-based).</param>
/// <param name="Value">The result (default when it failed).</param>
/// <param name="Exception">The failure (<see cref="RemoteFunctionException"/>, <see cref="FunctionTimeoutException"/>), or null.</param>
public sealed record MapResult<TResult>(long Index, TResult Value, Exception? Exception)
{
    /// <summary>Whether the input's function returned.</summary>
    public bool Succeeded => Exception is null;
}
