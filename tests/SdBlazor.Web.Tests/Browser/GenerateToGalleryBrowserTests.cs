using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using SdBlazor.Web.Gallery;
using SdBlazor.Web.Tests.Support;
using Xunit.Abstractions;

namespace SdBlazor.Web.Tests.Browser;

/// <summary>
/// The whole loop a user goes through, in Debian's Chromium against the real app, engine and default model:
/// generate on the Generate page, follow "Open in gallery", find the image by a prompt word, "use these settings",
/// "img2img from this", generate again, and see the new image's lineage point back to the first one.
/// </summary>
public sealed class GenerateToGalleryBrowserTests(ITestOutputHelper output)
{
    private const string Prompt = "a purple triangle on a white background, center";

    [Fact]
    public async Task Generate_find_in_gallery_then_img2img_records_the_lineage()
    {
        await using var app = new AppFactory();
        app.UseKestrel();
        app.StartServer();
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        var index = app.Services.GetRequiredService<GalleryIndex>();

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await Chromium.LaunchAsync(playwright);
        var page = await browser.NewPageAsync(new() { ViewportSize = new() { Width = 1280, Height = 900 } });
        page.SetDefaultTimeout(120_000);
        Assertions.SetDefaultExpectTimeout(120_000);
        var problems = new List<string>();
        page.PageError += (_, error) => problems.Add($"page error: {error}");

        // 1. Generate through the form.
        await page.GotoAsync(address);
        await page.Locator("[data-interactive='true']").WaitForAsync();
        await page.GetByLabel("Prompt", new() { Exact = true }).FillAsync(Prompt);
        await page.GetByLabel("Steps", new() { Exact = true }).FillAsync("8");
        await page.GetByRole(AriaRole.Button, new() { Name = "Generate", Exact = true }).ClickAsync();
        await Assertions.Expect(page.Locator("img[alt^='Generated image']")).ToHaveCountAsync(1);
        var parent = Assert.Single(index.Query(new GalleryQuery()).Items);
        Assert.Equal(Prompt, parent.Prompt);
        Assert.Equal(8, parent.Steps);

        // 2. "Open in gallery" opens that image's details.
        await page.GetByText("Open in gallery").ClickAsync();
        await Assertions.Expect(page).ToHaveURLAsync(new Regex($"/gallery\\?image={parent.Key}$"));
        await Assertions.Expect(page.GetByRole(AriaRole.Button, new() { Name = "img2img from this" })).ToBeVisibleAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Close", Exact = true }).First.ClickAsync();

        // 3. Search by a prompt word and open the thumbnail.
        await page.Locator(".sd-gallery[data-interactive='true']").WaitForAsync();
        await page.GetByLabel("Search").FillAsync("triangle");
        var thumbnail = page.Locator($"img[alt^='{Prompt}']");
        await Assertions.Expect(thumbnail).ToHaveCountAsync(1);
        await page.GetByLabel("Search").FillAsync("circle");
        await Assertions.Expect(thumbnail).ToHaveCountAsync(0);
        await page.GetByLabel("Search").FillAsync("purple");
        await Assertions.Expect(thumbnail).ToHaveCountAsync(1);
        await thumbnail.ClickAsync();
        var seed = parent.Seed.ToString(System.Globalization.CultureInfo.InvariantCulture);
        await Assertions.Expect(page.GetByText(seed).First).ToBeVisibleAsync();

        // 4. "Use these settings" fills the Generate form with the prompt, steps and the now fixed seed.
        await page.GetByRole(AriaRole.Button, new() { Name = "Use these settings" }).ClickAsync();
        await Assertions.Expect(page).ToHaveURLAsync(new Regex($"/\\?fromImage={parent.Key}$"));
        await page.Locator("[data-interactive='true']").WaitForAsync();
        await Assertions.Expect(page.GetByLabel("Prompt", new() { Exact = true })).ToHaveValueAsync(Prompt);
        await Assertions.Expect(page.GetByLabel("Steps", new() { Exact = true })).ToHaveValueAsync("8");
        await Assertions.Expect(page.GetByLabel("Seed", new() { Exact = true })).ToHaveValueAsync(seed);

        // 5. "img2img from this" fills the Generate page with the settings and the image.
        await page.GotoAsync($"{address}/gallery?image={parent.Key}");
        await page.GetByRole(AriaRole.Button, new() { Name = "img2img from this" }).ClickAsync();
        await Assertions.Expect(page).ToHaveURLAsync(new Regex($"/\\?img2img={parent.Key}$"));
        await page.Locator("[data-interactive='true']").WaitForAsync();
        await Assertions.Expect(page.GetByLabel("Prompt", new() { Exact = true })).ToHaveValueAsync(Prompt);
        await Assertions.Expect(page.GetByLabel("Steps", new() { Exact = true })).ToHaveValueAsync("8");
        await Assertions.Expect(page.GetByText("from gallery")).ToBeVisibleAsync();

        // 6. Generate from it: the new image records its parent, and the parent lists it as a child.
        await page.GetByRole(AriaRole.Button, new() { Name = "Generate", Exact = true }).ClickAsync();
        await Assertions.Expect(page.Locator("img[alt^='Generated image']")).ToHaveCountAsync(1);
        await WaitUntil(() => index.Children(parent.Id, SdBlazor.Web.Sharing.AccountScope.Everything).Count == 1);
        var child = Assert.Single(index.Children(parent.Id, SdBlazor.Web.Sharing.AccountScope.Everything));
        Assert.Equal(parent.Key, child.ParentId);
        Assert.NotNull(child.Strength);

        await page.GotoAsync($"{address}/gallery?image={parent.Key}");
        await Assertions.Expect(page.GetByText("Made from this (1):")).ToBeVisibleAsync();
        await page.GotoAsync($"{address}/gallery?image={child.Key}");
        await Assertions.Expect(page.GetByText("Made from: ")).ToBeVisibleAsync();

        output.WriteLine($"parent {parent.Key}, child {child.Key}");
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    private static async Task WaitUntil(Func<bool> condition)
    {
        for (var i = 0; i < 100 && !condition(); i++) await Task.Delay(100);
    }
}
