using Microsoft.Playwright;
using SdBlazor.Engine.Imaging;
using SdBlazor.Web.Gallery;
using SdBlazor.Web.Tests.Gallery;
using SdBlazor.Web.Tests.Support;

namespace SdBlazor.Web.Tests.Browser;

/// <summary>Issue 33, defect 16 (the parts that are styles and markup), measured in Chromium.</summary>
public sealed class LookAndFeelBrowserTests
{
    [Fact]
    public async Task Generate_page_labels_fit_the_menu_reaches_the_bottom_focus_shows_and_no_empty_preview_box()
    {
        await using var browser = await BrowserApp.StartAsync();
        var page = browser.Page;
        await browser.OpenAsync();

        // Every label and every select's shown value is whole (nothing cut to "Schedule t…", "Ra…", "Model's …").
        var cut = await page.EvaluateAsync<string[]>("""
            () => [...document.querySelectorAll('.generate-form .mud-input-label, .generate-form [role=combobox]')]
                .filter(e => e.offsetParent !== null && e.scrollWidth > e.clientWidth + 1)
                .map(e => `${e.textContent.trim()} (${e.scrollWidth} > ${e.clientWidth})`)
            """);
        Assert.True(cut.Length == 0, "cut off: " + string.Join(", ", cut));

        // The side menu runs to the bottom of the window.
        var drawerBottom = await page.EvaluateAsync<double>("document.querySelector('.mud-drawer').getBoundingClientRect().bottom");
        Assert.InRange(drawerBottom, 899, 901);

        // Nothing running: no big empty box.
        var emptyHeight = await page.EvaluateAsync<double>("""
            () => Math.max(0, ...[...document.querySelectorAll('.live-preview-empty')].map(e => e.getBoundingClientRect().height))
            """);
        Assert.True(emptyHeight < 80, $"an empty preview box {emptyHeight} px high");

        // A keyboard-focused button looks different from an unfocused one.
        var generate = page.GetByRole(AriaRole.Button, new() { Name = "Generate", Exact = true });
        const string look = "e => { const s = getComputedStyle(e); return `${s.outlineStyle} ${s.outlineWidth} ${s.outlineColor} ${s.boxShadow}`; }";
        var unfocused = await generate.EvaluateAsync<string>(look);
        await page.GetByLabel("Batch size", new() { Exact = true }).FocusAsync();
        for (var i = 0; i < 10 && !await page.EvaluateAsync<bool>("() => document.activeElement?.textContent?.trim() === 'Generate'"); i++)
            await page.Keyboard.PressAsync("Tab");
        var focused = await generate.EvaluateAsync<string>(look);
        Assert.NotEqual(unfocused, focused);
        Assert.DoesNotContain("none", focused.Split(' ')[0]);
        browser.AssertNoProblems();
    }

    [Fact]
    public async Task The_chosen_theme_survives_a_reload()
    {
        await using var browser = await BrowserApp.StartAsync();
        var page = browser.Page;
        await browser.OpenAsync();
        const string background = "() => getComputedStyle(document.body).backgroundColor";
        var before = await page.EvaluateAsync<string>(background);
        await page.GetByRole(AriaRole.Button, new() { Name = "Toggle theme" }).ClickAsync();
        await page.WaitForFunctionAsync($"b => ({background})() !== b", before);
        var chosen = await page.EvaluateAsync<string>(background);

        await page.ReloadAsync();
        await page.Locator("[data-interactive='true']").WaitForAsync();
        await page.WaitForFunctionAsync($"c => ({background})() === c", chosen, new() { Timeout = 10_000 });
        browser.AssertNoProblems();
    }

    [Fact]
    public async Task Small_thumbnails_are_pixelated_and_the_scheduler_config_is_a_list()
    {
        await using var browser = await BrowserApp.StartAsync();
        var store = browser.Service<GalleryStore>();
        GalleryImage small, large;
        using (var image = TestGallery.MakeImage(64, 48))
            small = await store.SaveAsync(image, TestGallery.Parameters("a tiny pixel robot") with
            {
                SchedulerConfig = """{"_class_name":"EulerDiscreteScheduler","beta_schedule":"scaled_linear","num_train_timesteps":1000,"trained_betas":null}""",
            });
        using (var image = TestGallery.MakeImage(512, 512))
            large = await store.SaveAsync(image, TestGallery.Parameters("a large landscape"));
        var page = browser.Page;
        await browser.OpenAsync("/gallery", ".sd-gallery[data-interactive='true']");

        const string rendering = "e => getComputedStyle(e).imageRendering";
        Assert.Equal("pixelated", await page.Locator("img[alt^='a tiny pixel robot']").EvaluateAsync<string>(rendering));
        Assert.Equal("auto", await page.Locator("img[alt^='a large landscape']").EvaluateAsync<string>(rendering));

        await page.GotoAsync($"{browser.Address}/gallery?image={small.Key}");
        var dialog = page.GetByRole(AriaRole.Dialog);
        var config = dialog.GetByTestId("scheduler-config");
        await Assertions.Expect(config).ToBeVisibleAsync();
        Assert.DoesNotContain("{", await dialog.InnerTextAsync());
        await Assertions.Expect(config.Locator("dt", new() { HasText = "beta_schedule" })).ToHaveCountAsync(1);
        await Assertions.Expect(config.Locator("dd", new() { HasText = "scaled_linear" })).ToHaveCountAsync(1);
        _ = large;
        browser.AssertNoProblems();
    }
}
