using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;

namespace SdBlazor.Web.Sharing.Lan;

/// <summary>
/// What the server listens on: loopback only, or in LAN mode also this machine's network addresses. Decided at start from
/// <see cref="SharingOptions"/>, <c>--urls</c> and the saved <see cref="LanPreference"/>, and switched at run time by
/// <see cref="SetLanMode"/>, which rewrites Kestrel's endpoints through <see cref="ListenEndpointsProvider"/>.
/// </summary>
public sealed class ListenAddresses : IDisposable
{
    private readonly Lock _lock = new();
    private readonly string? _configuredUrls;
    private readonly SharingOptions _options;
    private readonly string _dataPath;
    private readonly ListenEndpointsProvider _endpoints;

    public ListenAddresses(string? configuredUrls, SharingOptions options, string dataPath, ListenEndpointsProvider endpoints)
    {
        _configuredUrls = configuredUrls;
        _options = options;
        _dataPath = dataPath;
        _endpoints = endpoints;
        LanRequested = options.LanMode || LanPreference.Load(dataPath);
        Apply();
        // LAN endpoints name this machine's addresses, so follow them when they change (Wi-Fi switch, new DHCP lease).
        NetworkChange.NetworkAddressChanged += OnAddressChanged;
    }

    public void Dispose() => NetworkChange.NetworkAddressChanged -= OnAddressChanged;

    private void OnAddressChanged(object? sender, EventArgs e)
    {
        lock (_lock) if (LanRequested && LanAllowed) Apply();
    }

    public bool LanRequested { get; private set; }

    /// <summary>
    /// False until an owner password exists (the app says so through <see cref="AllowLan"/>): before that, whoever
    /// reached the port from the network could claim the app, so <c>--lan</c> (or the saved choice) opens no LAN socket.
    /// </summary>
    public bool LanAllowed { get; private set; }

    public void AllowLan(bool allowed)
    {
        lock (_lock)
        {
            if (allowed == LanAllowed) return;
            LanAllowed = allowed;
            Apply();
        }
    }

    /// <summary>The URLs Kestrel is told to bind (port 0 stays 0 here: <see cref="LanAddresses"/> reads the bound ones).</summary>
    public IReadOnlyList<string> Urls { get; private set; } = [];

    /// <summary>The self-signed certificate, once LAN mode with <see cref="SharingOptions.Https"/> has needed it.</summary>
    public X509Certificate2? Certificate { get; private set; }

    public string? CertificateFingerprint => Certificate is null ? null : LanCertificate.Fingerprint(Certificate);

    /// <summary>Switches LAN mode and saves the choice. Callers check that an owner password exists first (<see cref="LanModeSwitch"/>).</summary>
    public void SetLanMode(bool on)
    {
        lock (_lock)
        {
            LanPreference.Save(_dataPath, on);
            if (on == LanRequested) return;
            LanRequested = on;
            Apply(); // Kestrel rebinds on its configuration-reload callback, shortly after
        }
    }

    private void Apply()
    {
        var lan = LanRequested && LanAllowed;
        var https = lan && _options.Https;
        if (https) Certificate ??= LanCertificate.LoadOrCreate(_dataPath);
        var urls = Decide(_configuredUrls, _options, lan, https, lan ? LanAddresses.MachineAddresses() : []);
        if (urls.SequenceEqual(Urls)) return;
        Urls = urls;
        _endpoints.Set(Urls);
    }

    /// <summary>
    /// Loopback only by default, whatever the port. LAN mode adds one endpoint per address of this machine (not a
    /// wildcard): the loopback endpoints stay as they are, so switching LAN mode at run time never drops the owner's
    /// own connections, and no wildcard has to share a port with a loopback binding. An explicit <c>--urls</c> that
    /// names a non-loopback address is the user's choice and kept in both modes.
    /// </summary>
    public static IReadOnlyList<string> Decide(string? configuredUrls, SharingOptions options, bool lan, bool https,
        IReadOnlyList<IPAddress> machineAddresses)
    {
        var configured = (configuredUrls ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (configured.Length > 0 && !configured.All(IsLoopbackUrl)) return [.. configured];
        var port = configured.Select(u => Uri.TryCreate(u, UriKind.Absolute, out var x) ? x.Port : -1).FirstOrDefault(p => p >= 0, options.Port);
        List<string> urls = configured.Length > 0 ? [.. configured] : [$"http://localhost:{port}"];
        if (!lan) return urls;
        urls.AddRange(machineAddresses.Select(a => $"http://{Host(a)}:{port}"));
        if (https)
        {
            urls.Add($"https://localhost:{options.HttpsPort}");
            urls.AddRange(machineAddresses.Select(a => $"https://{Host(a)}:{options.HttpsPort}"));
        }
        return urls;
    }

    private static string Host(IPAddress address) =>
        address.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{address}]" : address.ToString();

    private static bool IsLoopbackUrl(string url) =>
        Uri.TryCreate(url.Replace("://*", "://0.0.0.0").Replace("://+", "://0.0.0.0"), UriKind.Absolute, out var uri) && LocalRequests.IsLoopbackHost(uri.Host);
}
