namespace Modal.Secrets;

/// <summary>Settings of the Secrets service (section <c>Secrets</c>).</summary>
public sealed class SecretsOptions
{
    public const string SectionName = "Secrets";
}
