using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using SdBlazor.Web.Sharing.Shares;
using SdBlazor.Web.Tests.Sharing;
using SdBlazor.Web.Tests.Support;

namespace SdBlazor.Web.Tests.Browser;

/// <summary>Issue 33, defect 2: a link to the whole gallery that holds an image without a prompt.</summary>
public sealed class ShareWholeGalleryBrowserTests
{
    [Fact]
    public async Task A_gallery_link_opens_when_an_image_has_no_prompt()
    {
        await using var app = LanBindingTests.StartOnLan(out var baseUrl);
        app.EnsureOwner();
        // LiteDB stores "" as null by default: an image without a prompt came back with a null Prompt.
        var images = await app.AddImagesAsync("", "a lighthouse at dusk");
        var (_, token) = app.Services.GetRequiredService<ShareStore>().Create(new() { Kind = ShareKind.Gallery }, SharingFactory.OwnerName);

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await Chromium.LaunchAsync(playwright);
        var page = await browser.NewPageAsync();
        var response = await page.GotoAsync($"{baseUrl}/s/{token}");
        Assert.Equal(200, response!.Status);
        await Assertions.Expect(page.Locator("[data-testid='share-grid'] img")).ToHaveCountAsync(2);

        // The image without a prompt opens with its parameters, the prompt left empty.
        await page.Locator($"a[data-image-id='{images[0].Key}']").ClickAsync();
        var section = page.Locator($"#i-{images[0].Key}");
        await Assertions.Expect(section.Locator("img")).ToBeVisibleAsync();
        await Assertions.Expect(section).ToContainTextAsync("Steps 20");
    }
}
