using Microsoft.Playwright;
using SdBlazor.Engine.Upscaling;
using SdBlazor.Web.Gallery;
using SdBlazor.Web.Tests.Gallery;
using SdBlazor.Web.Tests.Support;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace SdBlazor.Web.Tests.Browser;

/// <summary>
/// Issue 32, item 6: "Upscale" in the gallery viewer makes a new gallery image from the open one, linked to it, with
/// its progress shown while it runs (Chromium, real app).
/// </summary>
public sealed class GalleryUpscaleBrowserTests
{
    // Every value the panel's state attribute takes and every progress bar added, from the mutation records themselves:
    // two render batches applied in one task reach an observer together, so reading the DOM would miss the first.
    private const string WatchStates = """
        () => {
            window.upscaleStates = [];
            new MutationObserver(records => {
                for (const r of records) {
                    if (r.type === "attributes" && r.attributeName === "data-upscale-state") {
                        window.upscaleStates.push(r.oldValue + "->" + r.target.getAttribute("data-upscale-state"));
                    }
                    for (const node of r.addedNodes ?? []) {
                        if (node.nodeType === 1 && (node.matches("[role=progressbar]") || node.querySelector("[role=progressbar]"))) window.upscaleStates.push("bar");
                    }
                }
            }).observe(document.body, { subtree: true, childList: true, attributes: true, attributeOldValue: true, attributeFilter: ["data-upscale-state"] });
        }
        """;

    [Fact]
    public async Task Upscaling_from_the_viewer_adds_a_child_image_made_by_the_chosen_upscaler()
    {
        await using var browser = await BrowserApp.StartAsync();
        var store = browser.Service<GalleryStore>();
        var index = browser.Service<GalleryIndex>();
        GalleryImage parent;
        using (var image = TestGallery.MakeImage(64, 48))
            parent = await store.SaveAsync(image, TestGallery.Parameters("a lighthouse at dusk"));

        var page = browser.Page;
        await browser.OpenAsync("/gallery", ".sd-gallery[data-interactive='true']");
        await page.Locator(".sd-gallery-open").First.ClickAsync();
        await Assertions.Expect(page.GetByTestId("detail-prompt")).ToHaveTextAsync("a lighthouse at dusk");
        await page.EvaluateAsync(WatchStates);

        await page.GetByRole(AriaRole.Button, new() { Name = "Upscale", Exact = true }).ClickAsync();
        await page.GetByLabel("Upscaler", new() { Exact = true }).ClickAsync();
        await page.GetByRole(AriaRole.Option, new() { Name = "Bicubic", Exact = true }).ClickAsync();
        await page.GetByLabel("Factor", new() { Exact = true }).ClickAsync();
        await page.GetByRole(AriaRole.Option, new() { Name = "3×", Exact = true }).ClickAsync();
        await Assertions.Expect(page.GetByText("64×48 → 192×144")).ToBeVisibleAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Start upscale", Exact = true }).ClickAsync();

        var done = page.GetByText("Upscaled to 192×144 and added to the gallery.");
        await Assertions.Expect(done).ToBeVisibleAsync(new() { Timeout = 60_000 });
        var states = await page.EvaluateAsync<string[]>("() => window.upscaleStates");
        Assert.Contains("idle->running", states);
        Assert.Contains("bar", states);
        Assert.Equal("running->done", states[^1]);

        var child = Assert.Single(index.Children(parent.Id, SdBlazor.Web.Sharing.AccountScope.Everything));
        Assert.Equal((192, 144, parent.Key), (child.Width, child.Height, child.ParentId));
        // The pixels are the chosen upscaler's output for the stored image, and the PNG keeps the source's parameters.
        using (var source = await LoadAsync(store, parent))
        using (var expected = ResamplerUpscaler.BuiltIn.Single(r => r.Name == "Bicubic").Upscale(source, 192, 144, default))
        using (var actual = await LoadAsync(store, child))
        {
            for (var y = 0; y < 144; y++)
                for (var x = 0; x < 192; x++)
                    Assert.Equal(expected[x, y], actual[x, y]);
        }
        Assert.Equal("a lighthouse at dusk", store.ReadFileMetadata(child)!.Parameters!.Prompt);

        // The new image opens from the message, and its lineage points back.
        await page.GetByText("Open the upscaled image").ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Cell, new() { Name = "192x144", Exact = true })).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByText("Made from: a lighthouse at dusk")).ToBeVisibleAsync();
        browser.AssertNoProblems();
    }

    private static async Task<Image<Rgb24>> LoadAsync(GalleryStore store, GalleryImage row)
    {
        await using var file = store.OpenFile(row)!;
        return await Image.LoadAsync<Rgb24>(file);
    }
}
