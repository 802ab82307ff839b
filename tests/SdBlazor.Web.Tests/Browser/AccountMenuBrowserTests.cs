using System.Text.RegularExpressions;
using Microsoft.Playwright;
using SdBlazor.Web.Sharing;
using SdBlazor.Web.Tests.Sharing;
using SdBlazor.Web.Tests.Sharing.Browser;

namespace SdBlazor.Web.Tests.Browser;

/// <summary>Issue 33, item 15: the app bar's account menu names who is signed in, their own limit, and logs out.</summary>
public sealed class AccountMenuBrowserTests
{
    [Fact]
    public async Task A_member_sees_their_name_and_limit_and_logs_out_and_the_local_owner_has_no_limit()
    {
        await using var remote = await RemoteBrowser.StartAsync(new() { ["Sharing:GenerationsPerMinute"] = "12" });
        remote.App.EnsureAccount("alice", SharingRole.Member);

        var (_, phone) = await remote.NewDeviceAsync();
        await remote.LogInAsync(phone, "alice", SharingFactory.Password);
        await phone.GotoAsync($"{remote.LanUrl}/gallery");
        await phone.Locator(".sd-gallery[data-interactive='true']").WaitForAsync();
        await phone.GetByRole(AriaRole.Button, new() { Name = "Account: alice" }).ClickAsync();
        var summary = phone.GetByTestId("account-summary");
        await Assertions.Expect(summary).ToContainTextAsync("Member");
        await Assertions.Expect(phone.GetByTestId("account-limit")).ToHaveTextAsync("Up to 12 generation requests a minute.");
        await Assertions.Expect(phone.GetByRole(AriaRole.Link, new() { Name = "Account and password" })).ToHaveAttributeAsync("href", "/account");
        await phone.GetByRole(AriaRole.Button, new() { Name = "Log out" }).ClickAsync();
        await Assertions.Expect(phone).ToHaveURLAsync(new Regex("/login$"));
        await phone.GotoAsync($"{remote.LanUrl}/gallery");
        await Assertions.Expect(phone).ToHaveURLAsync(new Regex("/login\\?"));

        var (_, desk) = await remote.NewDeviceAsync();
        await desk.GotoAsync($"{remote.LocalUrl}/gallery");
        await desk.Locator(".sd-gallery[data-interactive='true']").WaitForAsync();
        await desk.GetByRole(AriaRole.Button, new() { Name = $"Account: {SharingFactory.OwnerName}" }).ClickAsync();
        await Assertions.Expect(desk.GetByTestId("account-summary")).ToContainTextAsync("on this computer");
        await Assertions.Expect(desk.GetByTestId("account-limit")).ToHaveTextAsync("No generation limit.");
        await Assertions.Expect(desk.GetByRole(AriaRole.Button, new() { Name = "Log out" })).ToHaveCountAsync(0);
        Assert.True(remote.FailedPosts.IsEmpty, string.Join('\n', remote.FailedPosts));
    }
}
