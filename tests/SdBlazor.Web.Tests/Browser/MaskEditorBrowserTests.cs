using Microsoft.Playwright;
using SdBlazor.Web.Gallery;
using SdBlazor.Web.Generation;
using SdBlazor.Web.Sharing;
using SdBlazor.Web.Tests.Support;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using Xunit.Abstractions;

namespace SdBlazor.Web.Tests.Browser;

/// <summary>
/// Issue 32, item 2: a mask painted with the mouse over the init image goes with the job, and the stored result
/// keeps the unpainted area and repaints the painted one (real app, real default model, Chromium).
/// </summary>
public sealed class MaskEditorBrowserTests(ITestOutputHelper output)
{
    private const int Side = 64;

    [Fact]
    public async Task A_stroke_painted_with_the_mouse_is_the_jobs_mask_and_only_that_area_is_repainted()
    {
        await using var browser = await BrowserApp.StartAsync();
        var page = browser.Page;
        await browser.OpenAsync();
        await page.GetByLabel("Prompt", new() { Exact = true }).FillAsync("a blue circle");
        await page.GetByLabel("Steps", new() { Exact = true }).FillAsync("6");
        await page.GetByLabel("Seed", new() { Exact = true }).FillAsync("7");

        var init = Pattern();
        await page.GetByLabel("Init image", new() { Exact = true }).SetInputFilesAsync(new FilePayload { Name = "pattern.png", MimeType = "image/png", Buffer = init });
        await Assertions.Expect(page.GetByTestId("init-image-name")).ToHaveTextAsync("pattern.png");
        await page.GetByLabel("Denoising strength", new() { Exact = true }).FillAsync("0.9");
        await page.GetByLabel("Inpaint", new() { Exact = true }).CheckAsync();
        var editor = page.GetByTestId("mask-editor");
        await Assertions.Expect(editor).ToHaveAttributeAsync("data-mask-ready", "true");
        await Assertions.Expect(editor).ToHaveAttributeAsync("data-mask-painted", "false");

        // A horizontal stroke across the upper left quarter: image rows ~12–20 (brush 8 px at 64 px), columns ~6–34.
        var canvas = page.GetByLabel("Mask: paint the area to repaint");
        await canvas.ScrollIntoViewIfNeededAsync();
        var box = (await canvas.BoundingBoxAsync())!;
        Assert.True(box.Width >= 128, $"the mask canvas is shown {box.Width} px wide");
        float X(double ix) => (float)(box.X + ix * box.Width / Side);
        float Y(double iy) => (float)(box.Y + iy * box.Height / Side);
        await page.Mouse.MoveAsync(X(10), Y(16));
        await page.Mouse.DownAsync();
        await page.Mouse.MoveAsync(X(30), Y(16), new() { Steps = 12 });
        await page.Mouse.UpAsync();
        await Assertions.Expect(editor).ToHaveAttributeAsync("data-mask-painted", "true");

        // Undo takes the stroke away, redo brings it back; inverting twice is the stroke again.
        await page.GetByRole(AriaRole.Button, new() { Name = "Undo", Exact = true }).ClickAsync();
        await Assertions.Expect(editor).ToHaveAttributeAsync("data-mask-painted", "false");
        await page.GetByRole(AriaRole.Button, new() { Name = "Redo", Exact = true }).ClickAsync();
        await Assertions.Expect(editor).ToHaveAttributeAsync("data-mask-painted", "true");
        await page.GetByRole(AriaRole.Button, new() { Name = "Invert mask", Exact = true }).ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Invert mask", Exact = true }).ClickAsync();

        // An eraser stroke at the stroke's right end: those pixels are kept again.
        await page.GetByRole(AriaRole.Button, new() { Name = "Eraser", Exact = true }).ClickAsync();
        await canvas.ScrollIntoViewIfNeededAsync();
        box = (await canvas.BoundingBoxAsync())!;
        await page.Mouse.MoveAsync(X(28), Y(10));
        await page.Mouse.DownAsync();
        await page.Mouse.MoveAsync(X(28), Y(22), new() { Steps = 6 });
        await page.Mouse.MoveAsync(X(34), Y(22), new() { Steps = 3 });
        await page.Mouse.MoveAsync(X(34), Y(10), new() { Steps = 6 });
        await page.Mouse.UpAsync();

        await page.GetByLabel("Masked content", new() { Exact = true }).ClickAsync();
        await page.GetByRole(AriaRole.Option, new() { Name = "latent noise", Exact = true }).ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Generate", Exact = true }).ClickAsync();
        await Assertions.Expect(page.Locator("img[alt^='Generated image']")).ToHaveCountAsync(1, new() { Timeout = 120_000 });

        var job = Assert.Single(browser.Service<GenerationQueue>().List(10, AccountScope.Everything));
        Assert.Equal(2, job.Request.InpaintingFill);
        // The mask is a file beside the queue's init image while the job waits (not kept in the job document) and goes
        // with the result, so what was painted is checked on the image it made, below.
        Assert.True(job.HasMask);

        var index = browser.Service<GalleryIndex>();
        for (var i = 0; i < 100 && index.Query(new GalleryQuery()).Items.Count == 0; i++) await Task.Delay(100);
        var row = Assert.Single(index.Query(new GalleryQuery()).Items);
        await using var file = browser.Service<GalleryStore>().OpenFile(row)!;
        using var result = await Image.LoadAsync<Rgb24>(file);
        using var source = Image.Load<Rgb24>(init);

        // Far from the stroke (beyond the 4 px mask blur) the image is the init image; under it, something new.
        int keptDiff = 0;
        for (var y = 36; y < Side; y++)
            for (var x = 0; x < Side; x++)
                keptDiff = Math.Max(keptDiff, Diff(result[x, y], source[x, y]));
        double paintedDiff = 0;
        var painted = 0;
        for (var y = 14; y <= 18; y++)
            for (var x = 12; x <= 24; x++, painted++)
                paintedDiff += Diff(result[x, y], source[x, y]);
        paintedDiff /= painted;
        // The erased end of the stroke (columns 32–33, ≥ 8 px from what is left of it, beyond most of the 4 px blur).
        double erasedDiff = 0;
        var erased = 0;
        for (var y = 14; y <= 18; y++)
            for (var x = 32; x <= 33; x++, erased++)
                erasedDiff += Diff(result[x, y], source[x, y]);
        erasedDiff /= erased;
        output.WriteLine($"unpainted rows 36–63: max difference {keptDiff}; painted core: mean max-channel difference {paintedDiff:0.0}; erased end: {erasedDiff:0.0}");
        Assert.True(keptDiff <= 1, $"the unpainted area changed by up to {keptDiff} levels");
        Assert.True(paintedDiff >= 20, $"the painted area changed by only {paintedDiff:0.0} levels on average");
        Assert.True(erasedDiff < paintedDiff / 3, $"the erased end changed by {erasedDiff:0.0} levels, the painted core by {paintedDiff:0.0}");
        browser.AssertNoProblems();
    }

    [Fact]
    public async Task On_a_phone_a_finger_paints_and_the_editor_fits_the_screen()
    {
        await using var browser = await BrowserApp.StartAsync();
        await using var phone = await browser.Browser.NewContextAsync(new()
        {
            ViewportSize = new() { Width = 390, Height = 844 }, HasTouch = true, IsMobile = true, DeviceScaleFactor = 3,
        });
        var page = await phone.NewPageAsync();
        page.SetDefaultTimeout(60_000);
        var problems = new List<string>();
        page.PageError += (_, error) => problems.Add(error);
        await page.GotoAsync(browser.Address + "/");
        await page.Locator("[data-interactive='true']").WaitForAsync();

        await page.GetByLabel("Init image", new() { Exact = true }).SetInputFilesAsync(new FilePayload { Name = "pattern.png", MimeType = "image/png", Buffer = Pattern() });
        await page.GetByLabel("Inpaint", new() { Exact = true }).CheckAsync();
        var editor = page.GetByTestId("mask-editor");
        await Assertions.Expect(editor).ToHaveAttributeAsync("data-mask-ready", "true");
        var canvas = page.GetByLabel("Mask: paint the area to repaint");
        await canvas.ScrollIntoViewIfNeededAsync();
        var box = (await canvas.BoundingBoxAsync())!;
        Assert.True(box.X >= 0 && box.X + box.Width <= 390, $"the mask canvas spans {box.X}–{box.X + box.Width} px on a 390 px screen");

        await page.Touchscreen.TapAsync(box.X + box.Width / 2, box.Y + box.Height / 2);
        await Assertions.Expect(editor).ToHaveAttributeAsync("data-mask-painted", "true");
        Assert.Empty(problems);
    }

    private static int Diff(Rgb24 a, Rgb24 b) => Math.Max(Math.Abs(a.R - b.R), Math.Max(Math.Abs(a.G - b.G), Math.Abs(a.B - b.B)));

    /// <summary>Checks of 8 px in two colours: any repaint shows.</summary>
    internal static byte[] Pattern(int side = Side)
    {
        using var image = new Image<Rgb24>(side, side);
        image.ProcessPixelRows(rows =>
        {
            for (var y = 0; y < rows.Height; y++)
            {
                var row = rows.GetRowSpan(y);
                for (var x = 0; x < row.Length; x++) row[x] = ((x / 8 + y / 8) % 2 == 0) ? new Rgb24(230, 200, 40) : new Rgb24(30, 60, 160);
            }
        });
        using var ms = new MemoryStream();
        image.SaveAsPng(ms);
        return ms.ToArray();
    }
}
