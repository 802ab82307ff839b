using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using SdBlazor.Web.Sharing;
using SdBlazor.Web.Sharing.Auth;

namespace SdBlazor.Web.Tests.Sharing.Browser;

/// <summary>A page left open (a live circuit) loses access when its login ends elsewhere.</summary>
public sealed class OpenPageSessionTests
{
    [Fact]
    public async Task An_open_gallery_page_goes_to_the_login_page_when_its_session_ends()
    {
        await using var remote = await RemoteBrowser.StartAsync(new() { ["Sharing:SessionRevalidationSeconds"] = "1" });
        remote.App.EnsureAccount("alice", SharingRole.Member);
        var (_, alice) = await remote.NewDeviceAsync();
        await remote.LogInAsync(alice, "alice", SharingFactory.Password);
        await alice.GotoAsync($"{remote.LanUrl}/gallery");
        await Assertions.Expect(alice.Locator(".sd-gallery[data-interactive='true']")).ToHaveCountAsync(1);

        // Her password was changed on another device: every other login of hers ends.
        remote.App.Services.GetRequiredService<LoginSessions>().EndAll("alice");
        await Assertions.Expect(alice).ToHaveURLAsync(new Regex("/login\\?"), new() { Timeout = 15_000 });
    }
}
