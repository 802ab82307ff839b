using System.Net;
using System.Net.Sockets;

namespace SdBlazor.Web.Sharing;

/// <summary>The key that per-client limits count by.</summary>
public static class ClientAddresses
{
    /// <summary>
    /// An IPv4 address, or the /64 network of an IPv6 one: one device or home network usually gets a whole /64,
    /// so counting single IPv6 addresses would hand an attacker 2^64 fresh budgets.
    /// </summary>
    public static string Key(IPAddress? address)
    {
        if (address is null) return "unknown";
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        if (address.AddressFamily != AddressFamily.InterNetworkV6) return address.ToString();
        var bytes = address.GetAddressBytes();
        Array.Clear(bytes, 8, 8);
        return new IPAddress(bytes) + "/64";
    }

    public static string Key(HttpContext http) => Key(http.Connection.RemoteIpAddress);
}
