using System.Text;
using Microsoft.Playwright;
using SdBlazor.Web.Gallery;
using SdBlazor.Web.Tests.Api;
using SdBlazor.Web.Tests.Support;
using Xunit.Abstractions;

namespace SdBlazor.Web.Tests.Browser;

/// <summary>
/// Completions in the prompt box (LoRA tags, embedding and style names from the catalogs, keyboard only) and A1111's
/// Ctrl+Up/Down emphasis keys, in Chromium; the stored image's prompt proves the circuit got every edit.
/// </summary>
public sealed class PromptAssistBrowserTests(ITestOutputHelper output)
{
    private static async Task<string[]> ShownAsync(IPage page, string field = "prompt") =>
        [.. await page.Locator($"[data-prompt-assist='{field}'] .prompt-assist-list li .prompt-assist-name").AllTextContentsAsync()];

    [Fact]
    public async Task Lora_and_embedding_names_complete_by_keyboard_and_ctrl_arrows_change_emphasis_as_a1111()
    {
        using var fixtures = new PromptFixtures();
        fixtures.Sd15Lora("paperCut_v2", PromptFixtures.KohyaMetadata("paper cut", new() { ["10_papercut"] = new() { ["papercut"] = 20 } }));
        fixtures.SdxlLora("pixelArtXL");
        fixtures.Embedding("badhands");
        await using var app = await BrowserApp.StartAsync(fixtures.Settings, fixtures.DataPath);
        await app.OpenAsync();
        var page = app.Page;
        var prompt = page.GetByLabel("Prompt", new() { Exact = true });
        var list = page.Locator("[data-prompt-assist='prompt'] .prompt-assist-list");
        var selected = list.Locator("li[aria-selected='true'] .prompt-assist-name");

        await prompt.ClickAsync();
        await prompt.PressSequentiallyAsync("a red");
        await Assertions.Expect(list).ToBeHiddenAsync();
        // "<lora:" lists every LoRA, with its base model.
        await prompt.PressSequentiallyAsync(" <lora:");
        await Assertions.Expect(list).ToBeVisibleAsync();
        Assert.Equal(["paperCut_v2", "pixelArtXL"], await ShownAsync(page));
        await Assertions.Expect(list).ToContainTextAsync("LoRA · SD 1.x · paper cut");
        await Assertions.Expect(list).ToContainTextAsync("LoRA · SDXL");
        await page.ScreenshotAsync(new() { Path = Path.Combine(Directory.CreateDirectory(Path.Combine(AppContext.BaseDirectory, "artifacts")).FullName, "prompt-completions.png") });
        await prompt.PressSequentiallyAsync("pi");
        await Assertions.Expect(list.Locator("li")).ToHaveCountAsync(1);
        Assert.Equal(["pixelArtXL"], await ShownAsync(page));
        await page.Keyboard.PressAsync("Backspace");
        await page.Keyboard.PressAsync("Backspace");
        await Assertions.Expect(list.Locator("li")).ToHaveCountAsync(2);
        await Assertions.Expect(selected).ToHaveTextAsync("paperCut_v2");
        await page.Keyboard.PressAsync("ArrowDown");
        await Assertions.Expect(selected).ToHaveTextAsync("pixelArtXL");
        await page.Keyboard.PressAsync("ArrowDown");
        await Assertions.Expect(selected).ToHaveTextAsync("paperCut_v2");
        await page.Keyboard.PressAsync("ArrowUp");
        await page.Keyboard.PressAsync("ArrowUp");
        await Assertions.Expect(selected).ToHaveTextAsync("paperCut_v2");
        await page.Keyboard.PressAsync("Enter");
        await Assertions.Expect(list).ToBeHiddenAsync();
        await Assertions.Expect(prompt).ToHaveValueAsync("a red <lora:paperCut_v2:1>");

        // Part of an embedding's name; Tab accepts too.
        await prompt.PressSequentiallyAsync(" badh");
        await Assertions.Expect(list).ToBeVisibleAsync();
        Assert.Equal(["badhands"], await ShownAsync(page));
        await Assertions.Expect(list).ToContainTextAsync("embedding · SD 1.x");
        await page.Keyboard.PressAsync("Tab");
        await Assertions.Expect(prompt).ToHaveValueAsync("a red <lora:paperCut_v2:1> badhands");
        await Assertions.Expect(prompt).ToBeFocusedAsync();

        // A plain word that matches a LoRA offers its tag; Esc closes the list for that word, typing on keeps it closed.
        await prompt.PressSequentiallyAsync(" pape");
        await Assertions.Expect(list).ToBeVisibleAsync();
        await page.Keyboard.PressAsync("Escape");
        await Assertions.Expect(list).ToBeHiddenAsync();
        await prompt.PressSequentiallyAsync("r");
        await Assertions.Expect(list).ToBeHiddenAsync();
        await Assertions.Expect(prompt).ToHaveValueAsync("a red <lora:paperCut_v2:1> badhands paper");

        // Ctrl+Up/Down on the word at the caret: (red:1.1), (red:1.2), back to plain red, then (red:0.9).
        await page.Keyboard.PressAsync("Home");
        for (var i = 0; i < 3; i++) await page.Keyboard.PressAsync("ArrowRight");
        await page.Keyboard.PressAsync("Control+ArrowUp");
        await Assertions.Expect(prompt).ToHaveValueAsync("a (red:1.1) <lora:paperCut_v2:1> badhands paper");
        Assert.Equal("red", await prompt.EvaluateAsync<string>("e => e.value.slice(e.selectionStart, e.selectionEnd)"));
        await page.Keyboard.PressAsync("Control+ArrowUp");
        await Assertions.Expect(prompt).ToHaveValueAsync("a (red:1.2) <lora:paperCut_v2:1> badhands paper");
        await page.Keyboard.PressAsync("Control+ArrowDown");
        await page.Keyboard.PressAsync("Control+ArrowDown");
        await Assertions.Expect(prompt).ToHaveValueAsync("a red <lora:paperCut_v2:1> badhands paper");
        await page.Keyboard.PressAsync("Control+ArrowDown");
        await Assertions.Expect(prompt).ToHaveValueAsync("a (red:0.9) <lora:paperCut_v2:1> badhands paper");

        // Inside a LoRA tag the multiplier moves by 0.05 (A1111's keyedit_precision_extra).
        var value = await prompt.InputValueAsync();
        await page.Keyboard.PressAsync("End");
        for (var i = 0; i < value.Length - value.IndexOf("paperCut", StringComparison.Ordinal) - 2; i++) await page.Keyboard.PressAsync("ArrowLeft");
        await page.Keyboard.PressAsync("Control+ArrowUp");
        await Assertions.Expect(prompt).ToHaveValueAsync("a (red:0.9) <lora:paperCut_v2:1.05> badhands paper");

        // A selection of several words is wrapped as one group.
        await prompt.EvaluateAsync("e => { e.focus(); e.setSelectionRange(e.value.indexOf('badhands'), e.value.length); }");
        await page.Keyboard.PressAsync("Control+ArrowUp");
        const string expected = "a (red:0.9) <lora:paperCut_v2:1.05> (badhands paper:1.1)";
        await Assertions.Expect(prompt).ToHaveValueAsync(expected);

        // The circuit has every edit: the stored image's prompt is the text shown.
        await page.GetByLabel("Steps", new() { Exact = true }).FillAsync("1");
        await page.GetByRole(AriaRole.Button, new() { Name = "Generate", Exact = true }).ClickAsync();
        await Assertions.Expect(page.Locator("img[alt^='Generated image']")).ToHaveCountAsync(1, new() { Timeout = 120_000 });
        var stored = Assert.Single(app.Service<GalleryIndex>().Query(new GalleryQuery()).Items);
        Assert.Equal(expected, stored.Prompt);
        output.WriteLine(stored.Prompt);
        app.AssertNoProblems();
    }

    [Fact]
    public async Task Old_style_brackets_become_explicit_weights_and_a_style_name_completes_into_the_picker()
    {
        using var fixtures = new PromptFixtures();
        File.WriteAllText(Path.Combine(fixtures.DataPath, "styles.csv"), "name,prompt,negative_prompt\nCinematic,\"cinematic still of {prompt}\",cartoon\n", new UTF8Encoding(false));
        await using var app = await BrowserApp.StartAsync(fixtures.Settings, fixtures.DataPath);
        await app.OpenAsync();
        var page = app.Page;
        var prompt = page.GetByLabel("Prompt", new() { Exact = true });
        var list = page.Locator("[data-prompt-assist='prompt'] .prompt-assist-list");

        // Under load a render for an earlier keystroke can reach the box after newer text (the circuit sets the value):
        // that stale echo is ignored; a value the box never sent (a form filled by the server) is taken.
        await prompt.ClickAsync();
        await prompt.PressSequentiallyAsync("a red");
        await Assertions.Expect(page.Locator(".prompt-tokens")).ToHaveTextAsync("2/75");
        await prompt.EvaluateAsync("e => { e.value = 'a re'; }");
        Assert.Equal("a red", await prompt.InputValueAsync());
        await prompt.EvaluateAsync("e => { e.value = 'a blue square'; }");
        Assert.Equal("a blue square", await prompt.InputValueAsync());

        // A1111 rewrites ((red)) as (red:1.2) (1.1² rounded to the 0.1 step), then steps it.
        await prompt.FillAsync("a ((red)) circle");
        await prompt.EvaluateAsync("e => { e.focus(); e.setSelectionRange(4, 4); }");
        await page.Keyboard.PressAsync("Control+ArrowUp");
        await Assertions.Expect(prompt).ToHaveValueAsync("a (red:1.3) circle");
        await prompt.FillAsync("a [red] circle");
        await prompt.EvaluateAsync("e => { e.focus(); e.setSelectionRange(4, 4); }");
        await page.Keyboard.PressAsync("Control+ArrowDown");
        await Assertions.Expect(prompt).ToHaveValueAsync("a (red:0.8) circle");

        // A style: accepting it chooses it in the picker and takes the typed word out.
        await page.Keyboard.PressAsync("End");
        await prompt.PressSequentiallyAsync(" cine");
        await Assertions.Expect(list).ToContainTextAsync("Cinematic");
        await Assertions.Expect(list).ToContainTextAsync("style");
        await page.Keyboard.PressAsync("Enter");
        await Assertions.Expect(prompt).ToHaveValueAsync("a (red:0.8) circle");
        await Assertions.Expect(page.Locator(".mud-select").Filter(new() { HasText = "Styles" }).Locator("input").First).ToHaveValueAsync("Cinematic");

        // Generating applies the chosen style.
        await page.GetByLabel("Steps", new() { Exact = true }).FillAsync("1");
        await page.GetByRole(AriaRole.Button, new() { Name = "Generate", Exact = true }).ClickAsync();
        await Assertions.Expect(page.Locator("img[alt^='Generated image']")).ToHaveCountAsync(1, new() { Timeout = 120_000 });
        var stored = Assert.Single(app.Service<GalleryIndex>().Query(new GalleryQuery()).Items);
        Assert.Equal("cinematic still of a (red:0.8) circle", stored.Prompt);
        Assert.Equal("cartoon", stored.NegativePrompt);
        app.AssertNoProblems();
    }
}
