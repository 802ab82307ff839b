using System.Net;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using SdBlazor.Web.Sharing.Lan;

namespace SdBlazor.Web.Tests.Sharing;

/// <summary>
/// <c>--lan</c> before an owner password exists: nothing listens on the network until set-up, then LAN mode opens by
/// itself. Listening is checked in the kernel's socket list; requests go only to loopback.
/// </summary>
public sealed class LanBeforeSetupTests
{
    [Fact]
    public async Task Lan_mode_opens_no_network_socket_until_the_owner_password_exists()
    {
        var address = LanBindingTests.MachineLanAddress();
        if (address is null)
            return; // LAN mode needs a non-loopback address (as in LanBindingTests, nothing to check without one)
        await using var app = new SharingFactory(new() { ["Sharing:LanMode"] = "true" });
        app.UseKestrel();
        app.StartServer();
        var addresses = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses;
        Assert.All(addresses, a => Assert.StartsWith("http://127.0.0.1:", a));
        var loopback = addresses.Single();
        Assert.False(LanBindingTests.Listens($"http://{address}:{new Uri(loopback).Port}"), "listens on the LAN address before set-up");
        Assert.False(LanBindingTests.Listens($"http://0.0.0.0:{new Uri(loopback).Port}"), "listens on every address before set-up");
        Assert.True(app.Services.GetRequiredService<ListenAddresses>().LanRequested);

        app.EnsureOwner();
        string? lan = null;
        for (var i = 0; i < 100 && lan is null; i++)
        {
            lan = addresses.FirstOrDefault(a => a.StartsWith($"http://{address}:", StringComparison.Ordinal));
            if (lan is null) await Task.Delay(100);
        }
        Assert.NotNull(lan);
        // The socket itself, asked of the kernel: tests send no traffic to this machine's own LAN address.
        Assert.True(LanBindingTests.Listens(lan), $"nothing listens on {lan}");
        // What a device on the LAN gets, over loopback under a non-loopback Host name.
        using var http = LanBindingTests.LanClient(loopback);
        using var response = await http.GetAsync("/api/gallery");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }
}
