namespace SdBlazor.Web.Sharing.Lan;

/// <summary>
/// Puts the app's listen URLs into configuration as <c>Kestrel:Endpoints:SdBlazor{n}:Url</c>. Kestrel watches that
/// section and binds, unbinds and rebinds endpoints when it changes, which is what lets LAN mode be switched at run
/// time without restarting the process (<c>UseUrls</c> is read once at start).
/// </summary>
public sealed class ListenEndpointsSource : IConfigurationSource
{
    public const string EndpointPrefix = "SdBlazor";

    public ListenEndpointsProvider Provider { get; } = new();

    public IConfigurationProvider Build(IConfigurationBuilder builder) => Provider;
}

public sealed class ListenEndpointsProvider : ConfigurationProvider
{
    /// <summary>Replaces the endpoints and fires the reload token Kestrel listens to.</summary>
    public void Set(IReadOnlyList<string> urls)
    {
        var data = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var url in urls)
            data[$"Kestrel:Endpoints:{EndpointName(url)}:Url"] = url;
        Data = data;
        OnReload();
    }

    /// <summary>
    /// Named after the URL, not its position: Kestrel compares endpoints by name, so an endpoint that stays in the
    /// list keeps its name and is not rebound (which would drop its open connections).
    /// </summary>
    public static string EndpointName(string url) =>
        ListenEndpointsSource.EndpointPrefix + "_" + new string([.. url.Select(c => char.IsAsciiLetterOrDigit(c) ? c : '_')]);
}
