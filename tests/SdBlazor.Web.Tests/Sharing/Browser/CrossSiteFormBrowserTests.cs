using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using SdBlazor.Web.Gallery;

namespace SdBlazor.Web.Tests.Sharing.Browser;

/// <summary>
/// A page on another site (<see cref="RemoteBrowser.EvilHost"/>, served by its own little server) posts forms to
/// the app in the victim's Chromium, with its real foreign Origin and, from a sandboxed frame, with "Origin: null".
/// The victims: this machine's owner, who needs no cookie at all (so only the origin check stands in the way), and
/// a member logged in from another device.
/// </summary>
public sealed class CrossSiteFormBrowserTests
{
    [Fact]
    public async Task Forms_posted_from_another_site_are_refused_with_a_foreign_or_a_null_origin()
    {
        await using var remote = await RemoteBrowser.StartAsync();
        var app = remote.App;
        app.EnsureOwner();
        app.EnsureAccount("alice", SdBlazor.Web.Sharing.SharingRole.Member);
        var images = await app.AddImagesAsync("in the trash");
        var store = app.Services.GetRequiredService<GalleryStore>();
        store.Trash([images[0].Id]);
        await using var evil = await EvilSite.StartAsync();

        // The owner at this machine visits the attacker's page, which tries to empty the owner's trash.
        var (_, owner) = await remote.NewDeviceAsync();
        await owner.GotoAsync($"{remote.LocalUrl}/gallery");
        var forbidden = owner.WaitForResponseAsync(r => r.Url.EndsWith("/api/gallery/trash/empty", StringComparison.Ordinal));
        Assert.Equal(evil.Origin, await evil.AttackAsync(remote, owner, $"{remote.LocalUrl}/api/gallery/trash/empty", sandboxed: false));
        Assert.Equal(403, (await forbidden).Status);
        Assert.Equal("null", await evil.AttackAsync(remote, owner, $"{remote.LocalUrl}/api/gallery/trash/empty", sandboxed: true));
        Assert.NotNull(app.Services.GetRequiredService<GalleryIndex>().Get(images[0].Id, SdBlazor.Web.Sharing.AccountScope.Everything));

        // A member logged in on their phone: the attacker tries to log them out, and to log them in as the attacker.
        var (_, member) = await remote.NewDeviceAsync();
        await remote.LogInAsync(member, "alice", SharingFactory.Password);
        Assert.Equal(evil.Origin, await evil.AttackAsync(remote, member, $"{remote.LanUrl}/logout", sandboxed: false));
        Assert.Equal("null", await evil.AttackAsync(remote, member, $"{remote.LanUrl}/logout", sandboxed: true));
        Assert.Equal(evil.Origin, await evil.AttackAsync(remote, member, $"{remote.LanUrl}/login", sandboxed: false,
            ("_handler", "login"), ("Input.UserName", SharingFactory.OwnerName), ("Input.Password", SharingFactory.Password)));
        await member.GotoAsync($"{remote.LanUrl}/account");
        await Assertions.Expect(member.GetByRole(AriaRole.Heading, new() { Name = "alice" })).ToBeVisibleAsync();
    }

    /// <summary>The attacker's site: a page whose form posts itself to the target as soon as it loads.</summary>
    private sealed class EvilSite : IAsyncDisposable
    {
        private readonly WebApplication _web;
        private readonly int _port;

        private EvilSite(WebApplication web, int port) => (_web, _port) = (web, port);

        public static async Task<EvilSite> StartAsync()
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseKestrelCore().ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
            var web = builder.Build();
            web.MapGet("/attack", (HttpContext http) =>
            {
                var target = http.Request.Query["target"].ToString();
                var fields = string.Concat(http.Request.Query.Where(q => q.Key.StartsWith("f.", StringComparison.Ordinal))
                    .Select(q => $"<input type=\"hidden\" name=\"{WebUtility.HtmlEncode(q.Key[2..])}\" value=\"{WebUtility.HtmlEncode(q.Value.ToString())}\">"));
                var form = $"<form method=\"post\" action=\"{WebUtility.HtmlEncode(target)}\">{fields}</form><script>document.forms[0].submit()</script>";
                var html = http.Request.Query["sandboxed"] == "true"
                    // An opaque origin: the frame's form posts carry "Origin: null".
                    ? $"<iframe sandbox=\"allow-forms allow-scripts\" srcdoc=\"{WebUtility.HtmlEncode(form)}\"></iframe>"
                    : form;
                return Results.Content($"<!DOCTYPE html><html><body>{html}</body></html>", "text/html");
            });
            await web.StartAsync();
            return new EvilSite(web, new Uri(web.Urls.First()).Port);
        }

        public string Origin => $"http://{RemoteBrowser.EvilHost}:{_port}";

        /// <summary>
        /// Opens the attack page in the victim's tab and returns the Origin with which the app refused the forged
        /// post (from its log: a refused answer in a sandboxed frame is blocked by frame-ancestors before the page's
        /// events see it).
        /// </summary>
        public async Task<string> AttackAsync(RemoteBrowser app, IPage victim, string target, bool sandboxed, params (string Name, string Value)[] fields)
        {
            var query = $"target={Uri.EscapeDataString(target)}&sandboxed={(sandboxed ? "true" : "false")}"
                + string.Concat(fields.Select(f => $"&f.{Uri.EscapeDataString(f.Name)}={Uri.EscapeDataString(f.Value)}"));
            var before = app.Logs.Lines.Count;
            var refusal = $"Refused a cross-origin POST {new Uri(target).AbsolutePath} from ";
            await victim.GotoAsync($"{Origin}/attack?{query}");
            for (var i = 0; i < 150; i++)
            {
                if (app.Logs.Lines.Skip(before).FirstOrDefault(l => l.StartsWith(refusal, StringComparison.Ordinal)) is { } line) return line[refusal.Length..];
                await Task.Delay(100);
            }
            throw new Xunit.Sdk.XunitException($"the app did not refuse the forged POST to {target} (sandboxed: {sandboxed})");
        }

        public async ValueTask DisposeAsync() => await _web.DisposeAsync();
    }
}
