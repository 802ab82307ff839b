using System.Text;
using Microsoft.Playwright;
using SdBlazor.Web.Gallery;
using SdBlazor.Web.Tests.Api;
using SdBlazor.Web.Tests.Support;
using Xunit.Abstractions;

namespace SdBlazor.Web.Tests.Browser;

/// <summary>
/// The Generate form's A1111 prompt tools as a user meets them in Chromium: the live token counter while typing, and
/// clip skip, emphasis and a style from styles.csv reaching the image the gallery stores (its infotext).
/// </summary>
public sealed class PromptToolsBrowserTests(ITestOutputHelper output)
{
    private static string Words(int count) => string.Join(' ', Enumerable.Repeat("red", count));

    // Expected counts from A1111's rules (sd_hijack_clip.tokenize_line), by hand: "red" is one token of the default
    // model's vocabulary. A full chunk counts 75 even when the comma back-off padded it; the last counts its tokens.
    [Fact]
    public async Task The_token_counter_follows_typing_across_chunks_as_a1111_counts()
    {
        await using var app = await BrowserApp.StartAsync();
        var tokenizer = SdBlazor.Engine.Tokenization.ClipTokenizer.Load(Path.Combine(DefaultModel.Folder, "tokenizer"));
        Assert.Single(tokenizer.EncodeTokens("red"));
        Assert.Equal(3, tokenizer.EncodeTokens("red, red").Count);
        await app.OpenAsync();
        var prompt = app.Page.GetByLabel("Prompt", new() { Exact = true });
        var counter = app.Page.Locator(".prompt-tokens");
        await Assertions.Expect(counter).ToHaveTextAsync("0/75");

        await prompt.ClickAsync();
        await prompt.PressSequentiallyAsync("red red");
        await Assertions.Expect(counter).ToHaveTextAsync("2/75");

        // 75 tokens fill the first chunk; one more word opens the second (capacity 150).
        await prompt.FillAsync(Words(74));
        await Assertions.Expect(counter).ToHaveTextAsync("74/75");
        await prompt.PressSequentiallyAsync(" red");
        await Assertions.Expect(counter).ToHaveTextAsync("75/75");
        await prompt.PressSequentiallyAsync(" red");
        await Assertions.Expect(counter).ToHaveTextAsync("76/150");

        // Comma back-off: 73 words, a comma and a word are 75 tokens; the next word does not fit, so the text after the
        // comma moves to the second chunk and the first is padded to 75: 75 + 2 = 77, not 76.
        await prompt.FillAsync(Words(73) + ", red");
        await Assertions.Expect(counter).ToHaveTextAsync("75/75");
        await prompt.PressSequentiallyAsync(" red");
        await Assertions.Expect(counter).ToHaveTextAsync("77/150");

        // Deleting brings the count back; the syntax itself costs no tokens.
        await prompt.FillAsync("(red:1.3) [red] red");
        await Assertions.Expect(counter).ToHaveTextAsync("3/75");
        // The negative prompt has its own counter.
        var negative = app.Page.GetByLabel("Negative prompt", new() { Exact = true });
        await negative.ClickAsync();
        await negative.PressSequentiallyAsync("red, red");
        await Assertions.Expect(app.Page.Locator(".negative-prompt-tokens")).ToHaveTextAsync("3/75");
        app.AssertNoProblems();
    }

    [Fact]
    public async Task Clip_skip_emphasis_and_a_chosen_style_reach_the_stored_images_infotext()
    {
        var data = AppFactory.NewDataFolder();
        // As A1111 writes styles.csv: quoted fields, a {prompt} placeholder.
        File.WriteAllText(Path.Combine(data, "styles.csv"), "name,prompt,negative_prompt\n\"Cinematic\",\"cinematic still of {prompt}, film grain\",\"cartoon, drawing\"\nSharp,\"sharp\",\n",
            new UTF8Encoding(false));
        try
        {
            await using var app = await BrowserApp.StartAsync(dataPath: data);
            await app.OpenAsync();
            var page = app.Page;
            await page.GetByLabel("Prompt", new() { Exact = true }).FillAsync("a (red:1.3) circle");
            await page.GetByLabel("Negative prompt", new() { Exact = true }).FillAsync("blurry");
            await page.GetByLabel("Steps", new() { Exact = true }).FillAsync("2");
            await page.GetByLabel("Clip skip", new() { Exact = true }).FillAsync("2");
            await page.Locator(".mud-select").Filter(new() { HasText = "Emphasis" }).First.ClickAsync();
            await page.GetByRole(AriaRole.Option).Filter(new() { HasText = "No norm" }).ClickAsync();
            await page.Keyboard.PressAsync("Escape");
            await page.Locator(".mud-select").Filter(new() { HasText = "Styles" }).First.ClickAsync();
            await page.GetByRole(AriaRole.Option).Filter(new() { HasText = "Cinematic" }).ClickAsync();
            await page.Keyboard.PressAsync("Escape");
            await Assertions.Expect(page.GetByLabel("Clip skip", new() { Exact = true })).ToHaveValueAsync("2");
            await Assertions.Expect(page.Locator(".mud-select").Filter(new() { HasText = "Emphasis" }).Locator("input").First).ToHaveValueAsync("No norm");
            await Assertions.Expect(page.Locator(".mud-select").Filter(new() { HasText = "Styles" }).Locator("input").First).ToHaveValueAsync("Cinematic");
            await page.GetByRole(AriaRole.Button, new() { Name = "Generate", Exact = true }).ClickAsync();
            await Assertions.Expect(page.Locator("img[alt^='Generated image']")).ToHaveCountAsync(1, new() { Timeout = 120_000 });

            var stored = Assert.Single(app.Service<GalleryIndex>().Query(new GalleryQuery()).Items);
            var parameters = Png.Parameters(await File.ReadAllBytesAsync(Path.Combine(data, stored.FileName)));
            output.WriteLine(parameters);
            Assert.StartsWith("cinematic still of a (red:1.3) circle, film grain\nNegative prompt: blurry, cartoon, drawing\n", parameters);
            // Both were lost on the way from the engine to the gallery's PNG (GalleryRows.FromEngine) before this test.
            Assert.Contains("Clip skip: 2", parameters);
            Assert.Contains("Emphasis: No norm", parameters);
            // The text fields keep what was typed (A1111 applies styles when generating).
            await Assertions.Expect(page.GetByLabel("Prompt", new() { Exact = true })).ToHaveValueAsync("a (red:1.3) circle");
            app.AssertNoProblems();
        }
        finally
        {
            AppFactory.TryDelete(data);
        }
    }
}
