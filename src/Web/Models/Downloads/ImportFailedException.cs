namespace SdBlazor.Web.Models.Downloads;

/// <summary>An import that cannot go on; <see cref="Retryable"/> when trying again later may work (dropped connection, short body, 5xx).</summary>
public sealed class ImportFailedException(string message, bool retryable = false, Exception? inner = null) : Exception(message, inner)
{
    public bool Retryable { get; } = retryable;
}
