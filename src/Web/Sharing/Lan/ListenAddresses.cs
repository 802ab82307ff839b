using System.Security.Cryptography.X509Certificates;

namespace SdBlazor.Web.Sharing.Lan;

/// <summary>What the server listens on, decided once at start from <see cref="SharingOptions"/> and <c>--urls</c>.</summary>
public sealed class ListenAddresses
{
    public required bool LanRequested { get; init; }
    public X509Certificate2? Certificate { get; init; }
    public string? CertificateFingerprint => Certificate is null ? null : LanCertificate.Fingerprint(Certificate);

    /// <summary>
    /// Loopback only by default, whatever the port; every interface in LAN mode. An explicit <c>--urls</c> is kept
    /// (it may name another port or address) except that LAN mode widens loopback-only URLs to all interfaces.
    /// </summary>
    public static IReadOnlyList<string> Decide(string? configuredUrls, SharingOptions options, bool https)
    {
        var configured = (configuredUrls ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var port = configured.Select(u => Uri.TryCreate(u.Replace("://*", "://0.0.0.0").Replace("://+", "://0.0.0.0"), UriKind.Absolute, out var x) ? x.Port : -1)
            .FirstOrDefault(p => p > 0, options.Port);
        List<string> urls;
        if (!options.LanMode)
            urls = configured.Length > 0 ? [.. configured] : [$"http://localhost:{port}"];
        else if (configured.Length > 0 && !configured.All(IsLoopbackUrl))
            urls = [.. configured];
        else
            urls = [$"http://*:{port}"];
        if (options.LanMode && https) urls.Add($"https://*:{options.HttpsPort}");
        return urls;
    }

    private static bool IsLoopbackUrl(string url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri) && LocalRequests.IsLoopbackHost(uri.Host);
}
