using System.Text.RegularExpressions;
using Microsoft.Playwright;
using SdBlazor.Web.Sharing;

namespace SdBlazor.Web.Tests.Sharing.Browser;

/// <summary>Logins are sessions: logging out or changing the password ends them, copied cookies included.</summary>
public sealed class SessionBrowserTests
{
    private const string NewPassword = "a brand new password";

    [Fact]
    public async Task Logging_out_ends_a_copied_cookie_and_a_password_change_ends_the_other_logins()
    {
        await using var remote = await RemoteBrowser.StartAsync();
        remote.App.EnsureAccount("alice", SharingRole.Member);

        // Someone copies alice's cookie; she logs out; the copy is worth nothing.
        var (phone, alice) = await remote.NewDeviceAsync();
        await remote.LogInAsync(alice, "alice", SharingFactory.Password);
        var (thief, stolen) = await remote.NewDeviceAsync();
        await thief.AddCookiesAsync((await phone.CookiesAsync()).Select(c => new Cookie
        {
            Name = c.Name, Value = c.Value, Domain = c.Domain, Path = c.Path, Expires = c.Expires, HttpOnly = c.HttpOnly, Secure = c.Secure, SameSite = c.SameSite,
        }));
        await stolen.GotoAsync($"{remote.LanUrl}/account");
        await Assertions.Expect(stolen.GetByRole(AriaRole.Heading, new() { Name = "alice" })).ToBeVisibleAsync();
        await alice.GotoAsync($"{remote.LanUrl}/account");
        await alice.GetByRole(AriaRole.Button, new() { Name = "Log out" }).ClickAsync();
        await Assertions.Expect(alice).ToHaveURLAsync(new Regex("/login$"));
        await stolen.GotoAsync($"{remote.LanUrl}/account");
        await Assertions.Expect(stolen).ToHaveURLAsync(new Regex("/login\\?"));

        // Logged in on two devices; on one she changes her password: the other is logged out, this one stays.
        await remote.LogInAsync(alice, "alice", SharingFactory.Password);
        var (_, laptop) = await remote.NewDeviceAsync();
        await remote.LogInAsync(laptop, "alice", SharingFactory.Password);
        await alice.GotoAsync($"{remote.LanUrl}/account");
        await RemoteBrowser.SubmitAsync(alice, "Change password",
            ("Input.Current", SharingFactory.Password), ("Input.New", NewPassword), ("Input.Confirm", NewPassword));
        await Assertions.Expect(alice.Locator("[data-testid='password-message']")).ToHaveTextAsync("Password changed. 1 other login(s) ended.");
        await laptop.GotoAsync($"{remote.LanUrl}/account");
        await Assertions.Expect(laptop).ToHaveURLAsync(new Regex("/login\\?"));
        await alice.GotoAsync($"{remote.LanUrl}/account");
        await Assertions.Expect(alice.GetByRole(AriaRole.Heading, new() { Name = "alice" })).ToBeVisibleAsync();

        // The old password no longer works, the new one does.
        await remote.LogInAsync(laptop, "alice", SharingFactory.Password);
        await Assertions.Expect(laptop.GetByText("Wrong user name or password.")).ToBeVisibleAsync();
        await remote.LogInAsync(laptop, "alice", NewPassword);
        await Assertions.Expect(laptop).ToHaveURLAsync($"{remote.LanUrl}/");
        Assert.Equal([$"401 POST {remote.LanUrl}/login"], remote.FailedPosts);
    }

    [Fact]
    public async Task A_wrong_current_password_changes_nothing()
    {
        await using var remote = await RemoteBrowser.StartAsync();
        remote.App.EnsureAccount("alice", SharingRole.Member);
        var (_, alice) = await remote.NewDeviceAsync();
        await remote.LogInAsync(alice, "alice", SharingFactory.Password);
        await alice.GotoAsync($"{remote.LanUrl}/account");
        await RemoteBrowser.SubmitAsync(alice, "Change password",
            ("Input.Current", "not the password"), ("Input.New", NewPassword), ("Input.Confirm", NewPassword));
        await Assertions.Expect(alice.Locator("[data-testid='password-message']")).ToHaveTextAsync("The current password is wrong.");
        Assert.Equal(SdBlazor.Web.Sharing.Accounts.LoginOutcome.Success,
            remote.App.Accounts.VerifyLogin("alice", SharingFactory.Password, new("test", IsLocal: true)).Outcome);
    }
}
