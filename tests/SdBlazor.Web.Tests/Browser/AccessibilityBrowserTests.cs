using Deque.AxeCore.Commons;
using Deque.AxeCore.Playwright;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using SdBlazor.Web.Sharing.Shares;
using SdBlazor.Web.Tests.Sharing;
using SdBlazor.Web.Tests.Sharing.Browser;
using Xunit.Abstractions;

namespace SdBlazor.Web.Tests.Browser;

/// <summary>
/// Issue 33, item 17: axe-core (the engine behind Lighthouse's accessibility audit) finds no serious or critical
/// violation on any page, in the dark and the light theme (contrast is one of its serious rules).
/// </summary>
public sealed class AccessibilityBrowserTests(ITestOutputHelper output)
{
    [Fact]
    public async Task No_page_has_a_serious_or_critical_axe_violation_in_either_theme()
    {
        await using var remote = await RemoteBrowser.StartAsync();
        var app = remote.App;
        app.EnsureOwner();
        var images = await app.AddImagesAsync("a quiet harbour at dawn", "a fox in the snow");
        var (_, token) = app.Services.GetRequiredService<ShareStore>()
            .Create(new() { Kind = ShareKind.Selection, ImageIds = [images[0].Key, images[1].Key] }, SharingFactory.OwnerName);

        var (_, owner) = await remote.NewDeviceAsync();
        var (_, stranger) = await remote.NewDeviceAsync();
        var failures = new List<string>();
        foreach (var theme in new[] { "dark", "light" })
        {
            foreach (var page in new[] { owner, stranger })
                await page.AddInitScriptAsync($"localStorage.setItem('sdblazor-theme', '{theme}')");
            await Check(owner, $"{remote.LocalUrl}/", "[data-interactive='true']");
            await Check(owner, $"{remote.LocalUrl}/gallery", ".sd-gallery[data-interactive='true']");
            await owner.Locator(".sd-gallery-open").First.ClickAsync();
            await owner.GetByTestId("image-viewer").WaitForAsync();
            await Audit(owner, "gallery viewer");
            await Check(owner, $"{remote.LocalUrl}/models", "[data-interactive='true']");
            await Check(owner, $"{remote.LocalUrl}/shares", "[data-testid='link-origin'][data-live='true']");
            await Check(owner, $"{remote.LocalUrl}/sharing", "[data-interactive='true']");
            await Check(owner, $"{remote.LocalUrl}/account", "h1");
            await Check(stranger, $"{remote.LanUrl}/login", "form");
            await Check(stranger, $"{remote.LanUrl}/s/{token}", "img");

            async Task Check(IPage page, string url, string ready)
            {
                await page.GotoAsync(url);
                await page.Locator(ready).First.WaitForAsync();
                await Audit(page, url);
            }

            async Task Audit(IPage page, string what)
            {
                // The saved theme is applied after the first render: audit the colours the user ends up seeing.
                await page.WaitForFunctionAsync("""
                    dark => {
                        if (!document.querySelector('.mud-layout')) return true;
                        const [r, g, b] = getComputedStyle(document.body).backgroundColor.match(/\d+/g).map(Number);
                        return (r + g + b < 3 * 128) === dark;
                    }
                    """, theme == "dark");
                // MudBlazor animates colours (250 ms) when the saved theme replaces the first render's: without this, axe
                // sometimes measured a button or chip halfway between the two palettes (4.13:1 on "Make invite link").
                await page.AddStyleTagAsync(new() { Content = "*, *::before, *::after { transition: none !important; animation: none !important; }" });
                var result = await page.RunAxe();
                foreach (var violation in result.Violations.Where(v => v.Impact is "serious" or "critical"))
                    failures.Add($"[{theme}] {what}: {violation.Id} ({violation.Impact}) {violation.Help}\n    "
                        + string.Join("\n    ", violation.Nodes.Take(8).Select(n => $"{n.Html}: {string.Join("; ", n.Any.Concat(n.All).Concat(n.None).Select(c => c.Message))}")));
                output.WriteLine($"[{theme}] {what}: {result.Violations.Length} violation(s), {result.Passes.Length} rule(s) passed");
            }
        }
        Assert.True(failures.Count == 0, string.Join('\n', failures));
    }
}
