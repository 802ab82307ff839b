using Microsoft.Playwright;
using SdBlazor.Web.Gallery;
using SdBlazor.Web.Sharing.Accounts;
using SdBlazor.Web.Tests.Gallery;
using SdBlazor.Web.Tests.Support;
using Xunit.Abstractions;

namespace SdBlazor.Web.Tests.Browser;

/// <summary>
/// Issue 33, defect 6: copying on a plain-HTTP LAN address, where the Clipboard API does not exist (not a secure
/// context). Chromium maps the name lan.test to 127.0.0.1, so the page really is http://lan.test:PORT: not secure,
/// and not "this computer" for the app either (the Host is no loopback name), so the owner logs in as on the LAN.
/// </summary>
public sealed class CopyOnPlainHttpBrowserTests(ITestOutputHelper output)
{
    private const string Password = "correct horse battery";

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Copy_seed_on_a_plain_http_lan_name_never_shows_a_stack_trace(bool legacyCopyBlocked)
    {
        await using var browser = await BrowserApp.StartAsync(browserArgs: "--host-resolver-rules=MAP lan.test 127.0.0.1");
        browser.Service<AccountStore>().CreateOwner("boss", Password);
        GalleryImage row;
        using (var image = TestGallery.MakeImage())
            row = await browser.Service<GalleryStore>().SaveAsync(image, TestGallery.Parameters("a copied kettle", seed: 987654321));
        var lan = new Uri(browser.Address).Port is var port ? $"http://lan.test:{port}" : "";
        var page = browser.Page;
        // A browser that refuses document.execCommand("copy") as well: the text must then be offered to copy by hand.
        if (legacyCopyBlocked) await page.AddInitScriptAsync("document.execCommand = () => false;");

        await page.GotoAsync($"{lan}/login");
        await page.GetByLabel("User name").FillAsync("boss");
        await page.GetByLabel("Password").FillAsync(Password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Log in" }).ClickAsync();
        // The login form itself once failed here: under "Referrer-Policy: no-referrer" a form POST carries "Origin: null".
        await Assertions.Expect(page).Not.ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/login"));
        await page.GotoAsync($"{lan}/gallery?image={row.Key}");
        Assert.False(await page.EvaluateAsync<bool>("window.isSecureContext"));
        Assert.True(await page.EvaluateAsync<bool>("navigator.clipboard === undefined"));

        await page.GetByRole(AriaRole.Button, new() { Name = "Copy seed" }).ClickAsync();
        var manual = page.GetByTestId("manual-copy");
        var copied = page.GetByText("Seed copied");
        await Assertions.Expect(manual.Or(copied)).ToBeVisibleAsync();
        if (legacyCopyBlocked || await manual.IsVisibleAsync())
        {
            var field = page.GetByLabel("seed to copy");
            await Assertions.Expect(field).ToHaveValueAsync("987654321");
            // Selected, so Ctrl+C is all that is left to do.
            await page.WaitForFunctionAsync("() => document.activeElement?.getAttribute('aria-label') === 'seed to copy' && document.getSelection().toString() === '987654321'");
        }
        output.WriteLine(legacyCopyBlocked ? "execCommand blocked: manual field" : await manual.IsVisibleAsync() ? "manual field" : "copied with execCommand");

        var text = await page.Locator("body").InnerTextAsync();
        Assert.DoesNotContain("Could not copy", text);
        Assert.DoesNotContain("TypeError", text);
        Assert.DoesNotContain(".js:", text);
        browser.AssertNoProblems();
    }
}
