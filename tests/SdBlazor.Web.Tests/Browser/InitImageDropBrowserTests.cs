using Microsoft.Playwright;
using SdBlazor.Engine.Imaging;
using SdBlazor.Web.Tests.Gallery;
using SdBlazor.Web.Tests.Support;

namespace SdBlazor.Web.Tests.Browser;

/// <summary>
/// Issue 33, items 11 and 16: the init image arrives by drop, paste or file choice; a PNG carrying A1111 parameters
/// offers to fill the form; files the engine would refuse are named with the reason, in Chromium.
/// </summary>
public sealed class InitImageDropBrowserTests
{
    // A File in a DataTransfer, built in the page from the bytes: what a drag from the desktop or a paste hands over.
    private const string MakeTransfer = """
        ([b64, name, type]) => {
            const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
            const transfer = new DataTransfer();
            transfer.items.add(new File([bytes], name, { type }));
            return transfer;
        }
        """;

    [Fact]
    public async Task A_dropped_png_with_parameters_fills_the_form_and_becomes_the_init_image()
    {
        await using var browser = await BrowserApp.StartAsync();
        var page = browser.Page;
        await browser.OpenAsync();
        var png = TestGallery.ForeignPng(("parameters", Infotext.Format(TestGallery.Parameters("a castle on a hill", seed: 4242) with { Steps = 13, CfgScale = 5.5 })));

        var zone = page.GetByTestId("init-image-drop");
        var transfer = await page.EvaluateHandleAsync(MakeTransfer, new object[] { Convert.ToBase64String(png), "castle.png", "image/png" });
        await zone.DispatchEventAsync("dragover", new { dataTransfer = transfer });
        await zone.DispatchEventAsync("drop", new { dataTransfer = transfer });

        await Assertions.Expect(page.GetByTestId("init-image-name")).ToHaveTextAsync("castle.png");
        await Assertions.Expect(page.GetByAltText("Init image thumbnail")).ToBeVisibleAsync();
        await Assertions.Expect(zone).ToContainTextAsync("40×30 px");
        var offer = page.GetByTestId("init-image-parameters");
        await Assertions.Expect(offer).ToContainTextAsync("a castle on a hill");
        await Assertions.Expect(page.GetByLabel("Prompt", new() { Exact = true })).ToHaveValueAsync("");

        await offer.GetByRole(AriaRole.Button, new() { Name = "Use its settings" }).ClickAsync();
        await Assertions.Expect(page.GetByLabel("Prompt", new() { Exact = true })).ToHaveValueAsync("a castle on a hill");
        await Assertions.Expect(page.GetByLabel("Negative prompt", new() { Exact = true })).ToHaveValueAsync("blurry");
        await Assertions.Expect(page.GetByLabel("Steps", new() { Exact = true })).ToHaveValueAsync("13");
        await Assertions.Expect(page.GetByLabel("Seed", new() { Exact = true })).ToHaveValueAsync("4242");
        // The image stays the init image: settings and picture, as a user dropping a result to rework it expects.
        await Assertions.Expect(page.GetByTestId("init-image-name")).ToHaveTextAsync("castle.png");
        await Assertions.Expect(page.GetByLabel("Denoising strength", new() { Exact = true })).ToBeVisibleAsync();
        await Assertions.Expect(offer).ToHaveCountAsync(0);
        browser.AssertNoProblems();
    }

    [Fact]
    public async Task Pasted_and_chosen_files_that_are_not_usable_images_are_refused_with_the_reason()
    {
        await using var browser = await BrowserApp.StartAsync();
        var page = browser.Page;
        await browser.OpenAsync();
        var zone = page.GetByTestId("init-image-drop");
        var error = page.GetByTestId("init-image-error");

        // A PNG signature and header with nothing after it, pasted (Ctrl+V) while the prompt has focus.
        var good = MaskEditorBrowserTests.Pattern();
        var truncated = good[..40];
        await page.GetByLabel("Prompt", new() { Exact = true }).FocusAsync();
        var transfer = await page.EvaluateHandleAsync(MakeTransfer, new object[] { Convert.ToBase64String(truncated), "broken.png", "image/png" });
        await page.EvaluateAsync("transfer => document.activeElement.dispatchEvent(new ClipboardEvent('paste', { clipboardData: transfer, bubbles: true, cancelable: true }))", transfer);
        await Assertions.Expect(error).ToContainTextAsync("broken.png");
        await Assertions.Expect(error).ToContainTextAsync("could not be read");
        await Assertions.Expect(zone).ToHaveAttributeAsync("data-init-state", "refused");
        await Assertions.Expect(page.GetByLabel("Denoising strength", new() { Exact = true })).ToHaveCountAsync(0);

        // A text file chosen with the file picker.
        await page.GetByLabel("Init image", new() { Exact = true }).SetInputFilesAsync(new FilePayload { Name = "notes.txt", MimeType = "text/plain", Buffer = "hello"u8.ToArray() });
        await Assertions.Expect(error).ToContainTextAsync("notes.txt is not a PNG, JPEG or WebP image.");

        // A PNG whose header claims 60000×60000 pixels: refused from the header, before any decoding.
        var huge = (byte[])good.Clone();
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(huge.AsSpan(16), 60_000);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(huge.AsSpan(20), 60_000);
        await page.GetByLabel("Init image", new() { Exact = true }).SetInputFilesAsync(new FilePayload { Name = "huge.png", MimeType = "image/png", Buffer = huge });
        await Assertions.Expect(error).ToContainTextAsync("huge.png");
        await Assertions.Expect(page.GetByLabel("Denoising strength", new() { Exact = true })).ToHaveCountAsync(0);

        // A good image pasted afterwards is taken, and the message goes.
        transfer = await page.EvaluateHandleAsync(MakeTransfer, new object[] { Convert.ToBase64String(good), "image.png", "image/png" });
        await page.EvaluateAsync("transfer => document.body.dispatchEvent(new ClipboardEvent('paste', { clipboardData: transfer, bubbles: true, cancelable: true }))", transfer);
        await Assertions.Expect(page.GetByTestId("init-image-name")).ToHaveTextAsync("image.png");
        await Assertions.Expect(error).ToHaveCountAsync(0);
        await Assertions.Expect(page.GetByTestId("init-image-parameters")).ToHaveCountAsync(0);
        browser.AssertNoProblems();
    }
}
