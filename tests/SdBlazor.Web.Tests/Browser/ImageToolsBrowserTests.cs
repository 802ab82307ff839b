using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using SdBlazor.Web.Gallery;
using SdBlazor.Web.Tests.Support;

namespace SdBlazor.Web.Tests.Browser;

/// <summary>Variation seed and hires fix from the Generate page, in Chromium against the real app and default model.</summary>
public sealed class ImageToolsBrowserTests
{
    [Fact]
    public async Task Hires_fix_and_a_variation_seed_from_the_form_reach_the_gallery_image()
    {
        await using var app = new AppFactory();
        app.UseKestrel();
        app.StartServer();
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        var index = app.Services.GetRequiredService<GalleryIndex>();
        var store = app.Services.GetRequiredService<GalleryStore>();

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await Chromium.LaunchAsync(playwright);
        var page = await browser.NewPageAsync(new() { ViewportSize = new() { Width = 1280, Height = 1400 } });
        page.SetDefaultTimeout(120_000);
        Assertions.SetDefaultExpectTimeout(120_000);
        var problems = new List<string>();
        page.PageError += (_, error) => problems.Add($"page error: {error}");

        await page.GotoAsync(address);
        await page.Locator("[data-interactive='true']").WaitForAsync();
        await page.GetByLabel("Prompt", new() { Exact = true }).FillAsync("a red square");
        await page.GetByLabel("Steps", new() { Exact = true }).FillAsync("4");
        await page.GetByLabel("Seed", new() { Exact = true }).FillAsync("21");

        await page.GetByLabel("Variation", new() { Exact = true }).CheckAsync();
        await page.GetByLabel("Variation seed", new() { Exact = true }).FillAsync("500");
        await page.GetByLabel("Variation strength", new() { Exact = true }).FillAsync("0.4");
        await page.GetByLabel("Hires fix", new() { Exact = true }).CheckAsync();
        await page.GetByLabel("Hires steps", new() { Exact = true }).FillAsync("2");
        await page.GetByLabel("Hires denoising strength", new() { Exact = true }).FillAsync("0.5");
        await Assertions.Expect(page.GetByText("64×64 → 128×128")).ToBeVisibleAsync();

        await page.GetByRole(AriaRole.Button, new() { Name = "Generate", Exact = true }).ClickAsync();
        await Assertions.Expect(page.Locator("img[alt^='Generated image']")).ToHaveCountAsync(1);
        for (var i = 0; i < 100 && index.Query(new GalleryQuery()).Items.Count == 0; i++) await Task.Delay(100);

        var row = Assert.Single(index.Query(new GalleryQuery()).Items);
        Assert.Equal((128, 128), (row.Width, row.Height));
        var parameters = store.ReadFileMetadata(row)!.Parameters!;
        Assert.Equal((500L, 0.4), (parameters.Subseed, parameters.SubseedStrength));
        Assert.Equal((2, "Latent"), (parameters.Hires!.Steps, parameters.Hires.Upscaler));
        Assert.Equal(0.5, parameters.Strength);
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }
}
