using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace SdBlazor.Web.Sharing.Lan;

/// <summary>The URLs other devices can use: every non-loopback address of this machine, on the ports Kestrel listens on.</summary>
public sealed class LanAddresses(IServer server)
{
    /// <summary>What Kestrel listens on beyond loopback (empty while LAN mode is off).</summary>
    public IReadOnlyList<Uri> Bindings()
    {
        var listening = server.Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
        return listening
            .Select(a => Uri.TryCreate(a.Replace("://*", "://0.0.0.0").Replace("://+", "://0.0.0.0"), UriKind.Absolute, out var u) ? u : null)
            .OfType<Uri>()
            .Where(u => !LocalRequests.IsLoopbackHost(u.Host))
            .ToList();
    }

    public IReadOnlyList<string> Urls()
    {
        var urls = new List<string>();
        foreach (var binding in Bindings())
        foreach (var address in MachineAddresses())
        {
            if (IPAddress.TryParse(binding.Host.Trim('[', ']'), out var bound) && !bound.Equals(IPAddress.Any) && !bound.Equals(IPAddress.IPv6Any) && !bound.Equals(address))
                continue;
            var host = address.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{address}]" : address.ToString();
            urls.Add($"{binding.Scheme}://{host}:{binding.Port}/");
        }
        return urls.Distinct().ToList();
    }

    /// <summary>Addresses of interfaces that are up, without loopback and IPv6 link-local ones (those need a zone id).</summary>
    public static IReadOnlyList<IPAddress> MachineAddresses() =>
        NetworkInterface.GetAllNetworkInterfaces()
            .Where(n => n.OperationalStatus == OperationalStatus.Up && n.NetworkInterfaceType != NetworkInterfaceType.Loopback)
            .SelectMany(n => n.GetIPProperties().UnicastAddresses.Select(u => u.Address))
            .Where(a => !IPAddress.IsLoopback(a) && !a.IsIPv6LinkLocal && a.AddressFamily is AddressFamily.InterNetwork or AddressFamily.InterNetworkV6)
            .OrderBy(a => a.AddressFamily == AddressFamily.InterNetworkV6)
            .ToList();
}
