using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using SdBlazor.Web.Sharing;
using SdBlazor.Web.Sharing.Shares;
using Xunit.Abstractions;

namespace SdBlazor.Web.Tests.Sharing.Browser;

/// <summary>
/// Every form of the app, used in Chromium exactly as a person on another device of the LAN does (see
/// <see cref="RemoteBrowser"/>): typing and pressing buttons, no extra headers, no HTTP calls of the test's own.
/// </summary>
public sealed partial class FormFlowBrowserTests(ITestOutputHelper output)
{
    private const string Password = "a long enough password";

    [Fact]
    public async Task Set_up_invite_join_log_out_and_log_in_from_another_device()
    {
        await using var remote = await RemoteBrowser.StartAsync();
        // A headless machine: the owner reads the set-up link in the console log and opens it on another device.
        var token = SetupToken().Match(string.Join('\n', remote.Logs.Lines)) is { Success: true } m ? m.Groups[1].Value
            : throw new Xunit.Sdk.XunitException("no set-up link in the log");
        var (_, owner) = await remote.NewDeviceAsync();
        await owner.GotoAsync($"{remote.LanUrl}/setup?token={token}");
        await RemoteBrowser.SubmitAsync(owner, "Save",
            ("Input.UserName", "boss"), ("Input.Password", Password), ("Input.Confirm", Password));
        await Assertions.Expect(owner).ToHaveURLAsync($"{remote.LanUrl}/sharing");
        await Assertions.Expect(owner.GetByRole(AriaRole.Heading, new() { Name = "LAN & accounts" })).ToBeVisibleAsync();

        // The owner makes an invite on the (interactive) sharing page.
        await owner.Locator("[data-interactive='true']").WaitForAsync();
        await owner.GetByRole(AriaRole.Button, new() { Name = "Make invite link" }).ClickAsync();
        var invite = await owner.Locator("a[href*='/invite/']").GetAttributeAsync("href") ?? throw new Xunit.Sdk.XunitException("no invite link");
        output.WriteLine($"invite: {invite}");
        Assert.StartsWith(remote.LanUrl, invite);

        // A friend joins with it on their phone, lands on the app as a member.
        var (_, friend) = await remote.NewDeviceAsync();
        await friend.GotoAsync(invite);
        await RemoteBrowser.SubmitAsync(friend, "Create account", ("Input.UserName", "alice"), ("Input.Password", Password));
        await Assertions.Expect(friend).ToHaveURLAsync($"{remote.LanUrl}/");
        await friend.GotoAsync($"{remote.LanUrl}/account");
        await Assertions.Expect(friend.GetByRole(AriaRole.Heading, new() { Name = "alice" })).ToBeVisibleAsync();

        // Logs out, is a stranger again, logs back in.
        await friend.GetByRole(AriaRole.Button, new() { Name = "Log out" }).ClickAsync();
        await Assertions.Expect(friend).ToHaveURLAsync(new Regex("/login$"));
        await friend.GotoAsync($"{remote.LanUrl}/account");
        await Assertions.Expect(friend).ToHaveURLAsync(new Regex("/login\\?"));
        await RemoteBrowser.SubmitAsync(friend, "Log in", ("Input.UserName", "alice"), ("Input.Password", Password));
        await Assertions.Expect(friend).ToHaveURLAsync($"{remote.LanUrl}/account");
        await Assertions.Expect(friend.GetByRole(AriaRole.Heading, new() { Name = "alice" })).ToBeVisibleAsync();

        Assert.True(remote.FailedPosts.IsEmpty, string.Join('\n', remote.FailedPosts));
    }

    [Fact]
    public async Task A_visitor_opens_a_pin_link_and_a_logged_in_owner_downloads_a_zip()
    {
        await using var remote = await RemoteBrowser.StartAsync();
        var app = remote.App;
        app.EnsureOwner();
        var images = await app.AddImagesAsync("pinned fox", "pinned owl", "other");
        var (_, token) = app.Services.GetRequiredService<ShareStore>()
            .Create(new() { Kind = ShareKind.Selection, ImageIds = [images[0].Key, images[1].Key], Pin = "2468" }, SharingFactory.OwnerName);

        var (_, visitor) = await remote.NewDeviceAsync();
        await visitor.GotoAsync($"{remote.LanUrl}/s/{token}");
        await Assertions.Expect(visitor.GetByRole(AriaRole.Heading, new() { Name = "Enter the PIN" })).ToBeVisibleAsync();
        await RemoteBrowser.SubmitAsync(visitor, "Open", ("Pin.Value", "1357"));
        await Assertions.Expect(visitor.GetByText("Wrong PIN.")).ToBeVisibleAsync();
        await RemoteBrowser.SubmitAsync(visitor, "Open", ("Pin.Value", "2468"));
        await Assertions.Expect(visitor.Locator("[data-testid='share-grid'] img")).ToHaveCountAsync(2);
        // The wrong PIN was the one expected refusal.
        Assert.Equal([$"401 POST {remote.LanUrl}/s/{token}"], remote.FailedPosts);
        remote.FailedPosts.Clear();

        // The owner, logged in from another device, selects two images in the gallery and downloads them as a zip.
        var (ownerDevice, owner) = await remote.NewDeviceAsync();
        await owner.GotoAsync($"{remote.LanUrl}/gallery");
        await Assertions.Expect(owner).ToHaveURLAsync(new Regex("/login\\?"));
        await RemoteBrowser.SubmitAsync(owner, "Log in", ("Input.UserName", SharingFactory.OwnerName), ("Input.Password", SharingFactory.Password));
        await Assertions.Expect(owner).ToHaveURLAsync($"{remote.LanUrl}/gallery");
        // The circuit (over ws://lan.test) must be live before clicks count.
        await Assertions.Expect(owner.Locator(".sd-gallery[data-interactive='true']")).ToHaveCountAsync(1);
        var boxes = owner.Locator(".sd-gallery-select");
        await Assertions.Expect(boxes).ToHaveCountAsync(3);
        var zipResponse = new TaskCompletionSource<IResponse>(TaskCreationOptions.RunContinuationsAsynchronously);
        ownerDevice.Response += (_, r) => { if (r.Url.EndsWith("/api/gallery/zip", StringComparison.Ordinal)) zipResponse.TrySetResult(r); };
        await boxes.Nth(0).CheckAsync();
        await boxes.Nth(1).CheckAsync();
        await Assertions.Expect(owner.GetByText("2 selected")).ToBeVisibleAsync();
        await owner.GetByRole(AriaRole.Button, new() { Name = "Download zip" }).ClickAsync();
        var zip = await zipResponse.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(200, zip.Status);
        Assert.Equal("application/zip", (await zip.AllHeadersAsync())["content-type"]);
        Assert.True(remote.FailedPosts.IsEmpty, string.Join('\n', remote.FailedPosts));
    }

    [GeneratedRegex("/setup\\?token=([A-Za-z0-9_-]{22})")]
    private static partial Regex SetupToken();
}
