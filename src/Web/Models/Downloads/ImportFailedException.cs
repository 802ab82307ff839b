namespace SdBlazor.Web.Models.Downloads;

/// <summary>An import that cannot go on; <see cref="Retryable"/> when trying again at once may work (dropped connection, short body, 5xx).</summary>
/// <param name="keepDownload">The bytes on disk stay for a later Retry although trying again now is pointless (a full disk).</param>
public sealed class ImportFailedException(string message, bool retryable = false, Exception? inner = null, bool keepDownload = false) : Exception(message, inner)
{
    public bool Retryable { get; } = retryable;

    /// <summary>What was downloaded is kept, so that a Retry resumes from it; otherwise it is deleted (it can never become valid).</summary>
    public bool KeepsDownload { get; } = retryable || keepDownload;

    // ENOSPC (28) on Unix, ERROR_DISK_FULL (112) / ERROR_HANDLE_DISK_FULL (39) on Windows.
    public static bool IsDiskFull(IOException ex) => (ex.HResult & 0xFFFF) is 28 or 39 or 112;
}
