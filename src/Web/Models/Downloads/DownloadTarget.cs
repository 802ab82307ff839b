namespace SdBlazor.Web.Models.Downloads;

/// <summary>
/// One file to fetch: its URL (a Hub <c>resolve</c> URL or any https URL), what it is called in messages, and what the
/// bytes must hash to and how many there must be, when known beforehand (Hub listing, request).
/// </summary>
public sealed record DownloadTarget(Uri Url, string Label, string? ExpectedSha256, long? ExpectedSize);

/// <summary>What the server said about the file on the first hop (the Hub's own headers, before any redirect to storage).</summary>
public sealed record DownloadResult(string? Sha256, long Length, string? RepoCommit);
