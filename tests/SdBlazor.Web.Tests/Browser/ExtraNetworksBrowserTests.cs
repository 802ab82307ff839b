using Microsoft.Playwright;
using SdBlazor.Web.Tests.Api;
using SdBlazor.Web.Tests.Support;

namespace SdBlazor.Web.Tests.Browser;

/// <summary>
/// The LoRA and embeddings browser of the Generate page in Chromium: cards from real safetensors headers (base model,
/// kohya's training notes and trigger words, a preview picture beside the file), a click toggles the tag in the
/// prompt, Refresh picks up new files (cards and completions), and an empty folder says what to do.
/// </summary>
public sealed class ExtraNetworksBrowserTests
{
    [Fact]
    public async Task Cards_show_the_files_metadata_insert_their_tags_and_refresh_finds_new_files()
    {
        using var fixtures = new PromptFixtures();
        fixtures.Sd15Lora("paperCut_v2", PromptFixtures.KohyaMetadata("paper cut",
            new() { ["10_papercut"] = new() { ["papercut"] = 20, ["white background"] = 7 }, ["5_extra"] = new() { ["paper"] = 9 } }));
        await File.WriteAllBytesAsync(Path.Combine(fixtures.LoraPath, "paperCut_v2.png"), Png.Gradient(32, 32));
        fixtures.SdxlLora("pixelArtXL");
        fixtures.Embedding("badhands", vectors: 6);
        await using var app = await BrowserApp.StartAsync(fixtures.Settings, fixtures.DataPath);
        await app.OpenAsync();
        var page = app.Page;
        var prompt = page.GetByLabel("Prompt", new() { Exact = true });
        var panel = page.GetByTestId("extra-networks");

        await panel.GetByRole(AriaRole.Button, new() { Name = "Show LoRA and embeddings" }).ClickAsync();
        await Assertions.Expect(panel.GetByRole(AriaRole.Tab, new() { Name = "LoRA (2)" })).ToBeVisibleAsync();
        var paper = panel.Locator(".network-card[data-name='paperCut_v2']");
        var pixel = panel.Locator(".network-card[data-name='pixelArtXL']");
        await Assertions.Expect(paper.Locator(".network-family")).ToHaveTextAsync("SD 1.x");
        await Assertions.Expect(pixel.Locator(".network-family")).ToHaveTextAsync("SDXL");
        await Assertions.Expect(paper.Locator(".network-alias")).ToHaveTextAsync("paper cut");
        // Tag counts summed over the dataset folders, most frequent first.
        await Assertions.Expect(paper.Locator(".network-tags")).ToHaveTextAsync("Trigger words: papercut, paper, white background");
        await Assertions.Expect(paper.Locator(".network-facts")).ToContainTextAsync("ss_network_dim: 16");
        await Assertions.Expect(paper.Locator(".network-facts")).ToContainTextAsync("ss_sd_model_name: v1-5-pruned-emaonly.safetensors");
        await paper.Locator(".network-metadata summary").ClickAsync();
        await Assertions.Expect(paper.Locator(".network-metadata")).ToContainTextAsync("ss_seed: 42");
        // Opening the metadata is not a click on the card.
        await Assertions.Expect(prompt).ToHaveValueAsync("");
        var preview = paper.Locator("img");
        await Assertions.Expect(preview).ToHaveCountAsync(1);
        await page.WaitForFunctionAsync("img => img.complete && img.naturalWidth === 32", await preview.ElementHandleAsync());
        await Assertions.Expect(pixel.Locator("img")).ToHaveCountAsync(0);
        await panel.ScreenshotAsync(new() { Path = Path.Combine(Directory.CreateDirectory(Path.Combine(AppContext.BaseDirectory, "artifacts")).FullName, "extra-networks.png") });

        // A click adds the tag to the prompt (as A1111: appended), a second click takes it out.
        await prompt.FillAsync("a red circle");
        await paper.ClickAsync();
        await Assertions.Expect(prompt).ToHaveValueAsync("a red circle <lora:paperCut_v2:1>");
        await pixel.ClickAsync();
        await Assertions.Expect(prompt).ToHaveValueAsync("a red circle <lora:paperCut_v2:1> <lora:pixelArtXL:1>");
        await paper.ClickAsync();
        await Assertions.Expect(prompt).ToHaveValueAsync("a red circle <lora:pixelArtXL:1>");

        // Embeddings: their own tab; a click adds the name to the prompt box last used (here the negative prompt).
        await panel.GetByRole(AriaRole.Tab, new() { Name = "Embeddings (1)" }).ClickAsync();
        var bad = panel.Locator(".network-card[data-name='badhands']");
        await Assertions.Expect(bad.Locator(".network-family")).ToHaveTextAsync("SD 1.x");
        await Assertions.Expect(bad.Locator(".network-facts")).ToContainTextAsync("vectors: 6");
        await page.GetByLabel("Negative prompt", new() { Exact = true }).FillAsync("blurry");
        await bad.ClickAsync();
        await Assertions.Expect(page.GetByLabel("Negative prompt", new() { Exact = true })).ToHaveValueAsync("blurry badhands");
        await Assertions.Expect(prompt).ToHaveValueAsync("a red circle <lora:pixelArtXL:1>");

        // A new file: Refresh lists it and the prompt box completes it.
        fixtures.Sd15Lora("inkSketch");
        await panel.GetByRole(AriaRole.Tab, new() { Name = "LoRA (2)" }).ClickAsync();
        await panel.GetByRole(AriaRole.Button, new() { Name = "Refresh" }).ClickAsync();
        await Assertions.Expect(panel.GetByRole(AriaRole.Tab, new() { Name = "LoRA (3)" })).ToBeVisibleAsync();
        await Assertions.Expect(panel.Locator(".network-card[data-name='inkSketch'] .network-family")).ToHaveTextAsync("SD 1.x");
        await prompt.ClickAsync();
        await page.Keyboard.PressAsync("End");
        await prompt.PressSequentiallyAsync(" <lora:ink");
        await Assertions.Expect(page.Locator("[data-prompt-assist='prompt'] .prompt-assist-list li")).ToHaveTextAsync(["inkSketchLoRA · SD 1.x"]);

        // The filter narrows the cards by name, family or trigger word.
        await panel.GetByLabel("Filter networks").FillAsync("sdxl");
        await Assertions.Expect(panel.Locator(".network-card")).ToHaveCountAsync(1);
        await Assertions.Expect(pixel).ToBeVisibleAsync();
        await panel.GetByLabel("Filter networks").FillAsync("white background");
        await Assertions.Expect(panel.Locator(".network-card")).ToHaveCountAsync(1);
        await Assertions.Expect(paper).ToBeVisibleAsync();
        app.AssertNoProblems();
    }

    [Fact]
    public async Task Empty_and_missing_folders_say_where_files_go_and_refresh_still_works()
    {
        using var fixtures = new PromptFixtures();
        Directory.Delete(fixtures.EmbeddingsPath);
        await using var app = await BrowserApp.StartAsync(fixtures.Settings, fixtures.DataPath);
        await app.OpenAsync();
        var panel = app.Page.GetByTestId("extra-networks");
        await panel.GetByRole(AriaRole.Button, new() { Name = "Show LoRA and embeddings" }).ClickAsync();
        await Assertions.Expect(panel.Locator(".network-empty")).ToContainTextAsync($"No LoRA files in {fixtures.LoraPath}");
        await panel.GetByRole(AriaRole.Button, new() { Name = "Refresh" }).ClickAsync();
        await Assertions.Expect(panel.Locator(".network-empty")).ToContainTextAsync("No LoRA files");
        await panel.GetByRole(AriaRole.Tab, new() { Name = "Embeddings (0)" }).ClickAsync();
        await Assertions.Expect(panel.Locator(".network-empty")).ToContainTextAsync($"No embeddings in {fixtures.EmbeddingsPath}");
        // Nothing to complete: typing "<lora:" opens no list.
        var prompt = app.Page.GetByLabel("Prompt", new() { Exact = true });
        await prompt.ClickAsync();
        await prompt.PressSequentiallyAsync("<lora:");
        await Assertions.Expect(app.Page.Locator("[data-prompt-assist='prompt'] .prompt-assist-list")).ToBeHiddenAsync();
        app.AssertNoProblems();
    }
}
