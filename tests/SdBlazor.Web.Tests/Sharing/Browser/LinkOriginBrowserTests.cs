using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using SdBlazor.Web.Sharing.Lan;
using Xunit.Abstractions;

namespace SdBlazor.Web.Tests.Sharing.Browser;

/// <summary>
/// Issue 33, defect 1: the owner at 127.0.0.1 gets share links and QR codes that other devices can open. The links'
/// addresses are only read, never opened (tests send nothing to this machine's own network address); another
/// device is Chromium under <see cref="RemoteBrowser.LanHost"/>, mapped to loopback.
/// </summary>
public sealed class LinkOriginBrowserTests(ITestOutputHelper output)
{
    [Fact]
    public async Task The_owner_at_loopback_chooses_a_lan_address_for_links_which_is_remembered()
    {
        await using var remote = await RemoteBrowser.StartAsync(new() { ["Sharing:LanMode"] = "true" });
        remote.App.EnsureOwner();
        var origins = remote.App.Services.GetRequiredService<LinkOrigins>();
        var candidates = await Eventually(() => origins.Candidates() is { Count: > 1 } c ? c : null);
        output.WriteLine($"candidates: {string.Join(", ", candidates)}");
        var hostName = candidates.First(c => !IPAddress.TryParse(new Uri(c).Host.Trim('[', ']'), out _));

        var (_, owner) = await remote.NewDeviceAsync();
        await owner.GotoAsync($"{remote.LocalUrl}/shares");
        await owner.Locator("[data-testid='link-origin'][data-live='true']").WaitForAsync();
        await owner.GetByRole(AriaRole.Button, new() { Name = "Make link" }).ClickAsync();
        var first = await LinkAsync(owner);
        Assert.DoesNotContain("127.0.0.1", first);
        Assert.StartsWith(candidates[0] + "/s/", first);

        // The owner picks the host name: the link just made is re-addressed, its QR code with it.
        var qrBefore = await owner.GetByAltText("QR code of the link").GetAttributeAsync("src");
        await owner.Locator("[data-testid='link-origin-select']").ClickAsync();
        await owner.GetByRole(AriaRole.Option).Filter(new() { HasText = hostName }).First.ClickAsync();
        await Assertions.Expect(owner.Locator("[data-testid='share-link']")).ToHaveAttributeAsync("href", $"{hostName}/s/{first[(first.LastIndexOf('/') + 1)..]}");
        Assert.NotEqual(qrBefore, await owner.GetByAltText("QR code of the link").GetAttributeAsync("src"));

        // Remembered: after a reload, and for invites too.
        await owner.ReloadAsync();
        await owner.Locator("[data-testid='link-origin'][data-live='true']").WaitForAsync();
        await owner.GetByRole(AriaRole.Button, new() { Name = "Make link" }).ClickAsync();
        Assert.StartsWith(hostName + "/s/", await LinkAsync(owner));
        await owner.GotoAsync($"{remote.LocalUrl}/sharing");
        await owner.Locator("[data-testid='link-origin'][data-live='true']").WaitForAsync();
        await owner.GetByRole(AriaRole.Button, new() { Name = "Make invite link" }).ClickAsync();
        var invite = await owner.Locator("a[href*='/invite/']").GetAttributeAsync("href");
        Assert.StartsWith(hostName + "/invite/", invite);

        // Someone who opened the app under a network name keeps that name: it is what reaches this machine from there.
        var (_, phone) = await remote.NewDeviceAsync();
        await remote.LogInAsync(phone, SharingFactory.OwnerName, SharingFactory.Password);
        await phone.GotoAsync($"{remote.LanUrl}/shares");
        await phone.Locator("[data-testid='link-origin'][data-live='true']").WaitForAsync();
        await Assertions.Expect(phone.Locator("[data-testid='link-origin-select']")).ToHaveCountAsync(0);
        await phone.GetByRole(AriaRole.Button, new() { Name = "Make link" }).ClickAsync();
        Assert.StartsWith(remote.LanUrl + "/s/", await LinkAsync(phone));
        Assert.True(remote.FailedPosts.IsEmpty, string.Join('\n', remote.FailedPosts));
    }

    [Fact]
    public async Task Without_lan_mode_the_owner_is_told_that_links_open_only_here()
    {
        await using var remote = await RemoteBrowser.StartAsync();
        var (_, owner) = await remote.NewDeviceAsync();
        await owner.GotoAsync($"{remote.LocalUrl}/shares");
        await owner.Locator("[data-testid='link-origin'][data-live='true']").WaitForAsync();
        await Assertions.Expect(owner.Locator("[data-testid='link-origin-local']")).ToContainTextAsync("only this computer");
        await owner.GetByRole(AriaRole.Button, new() { Name = "Make link" }).ClickAsync();
        Assert.StartsWith(remote.LocalUrl + "/s/", await LinkAsync(owner));
    }

    private static async Task<string> LinkAsync(IPage page)
    {
        var link = page.Locator("[data-testid='share-link']");
        await link.WaitForAsync();
        return await link.GetAttributeAsync("href") ?? throw new Xunit.Sdk.XunitException("the link has no href");
    }

    private static async Task<T> Eventually<T>(Func<T?> probe) where T : class
    {
        for (var i = 0; i < 100; i++)
        {
            if (probe() is { } value) return value;
            await Task.Delay(100);
        }
        throw new Xunit.Sdk.XunitException("LAN mode never listened beyond loopback");
    }
}
