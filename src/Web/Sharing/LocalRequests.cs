using System.Net;

namespace SdBlazor.Web.Sharing;

/// <summary>Decides whether a request comes from a browser on this machine (who is the owner without logging in).</summary>
public static class LocalRequests
{
    /// <summary>
    /// Local means BOTH: the TCP peer is a loopback address, AND the Host header names a loopback host. The second
    /// half defeats DNS rebinding: a hostile web page can make the local browser talk to 127.0.0.1 under the page's
    /// own name (evil.example resolving to 127.0.0.1), but the browser then sends <c>Host: evil.example</c>, which
    /// is not a loopback name, so that request is treated as remote and must log in.
    /// </summary>
    public static bool IsLocal(HttpContext http)
    {
        var remote = http.Connection.RemoteIpAddress;
        return remote is not null && IPAddress.IsLoopback(remote) && IsLoopbackHost(http.Request.Host.Host);
    }

    public static bool IsLoopbackHost(string? host)
    {
        if (string.IsNullOrEmpty(host)) return false;
        if (string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase)) return true;
        var trimmed = host.StartsWith('[') && host.EndsWith(']') ? host[1..^1] : host;
        return IPAddress.TryParse(trimmed, out var address) && IPAddress.IsLoopback(address);
    }
}
