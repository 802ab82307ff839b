using System.Text.Json.Nodes;
using Microsoft.Playwright;
using SdBlazor.Web.Tests.Api;
using SdBlazor.Web.Tests.Support;

namespace SdBlazor.Web.Tests.Browser;

/// <summary>
/// Issue 33, item 14: the size buttons follow the selected model's native resolution, and a size far from it is
/// flagged. The second model is the embedded one with <c>unet/config.json</c> saying <c>sample_size</c> 64 (an SD 1.5
/// model's 512 px): the model list reads only that JSON, nothing here runs it.
/// </summary>
public sealed class SizePresetBrowserTests
{
    [Fact]
    public async Task Size_buttons_follow_the_models_native_size_and_far_sizes_are_flagged()
    {
        var models = Path.Combine(AppFactory.NewDataFolder(), "models");
        CopyFolder(DefaultModel.Folder, Path.Combine(models, DefaultModel.Name));
        var sd15 = Path.Combine(models, "sd15-like");
        CopyFolder(DefaultModel.Folder, sd15);
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(sd15, "unet", "config.json")))!;
        config["sample_size"] = 64;
        File.WriteAllText(Path.Combine(sd15, "unet", "config.json"), config.ToJsonString());

        await using var app = await BrowserApp.StartAsync(new Dictionary<string, string?> { ["Engine:ModelsPath"] = models });
        var page = app.Page;
        await app.OpenAsync();
        var width = page.GetByLabel("Width", new() { Exact = true });
        var height = page.GetByLabel("Height", new() { Exact = true });
        var presets = page.Locator("[data-testid='size-presets']");

        // The embedded 64-px model: its square is the native size, pressed.
        await Assertions.Expect(presets.GetByRole(AriaRole.Button, new() { Name = "1:1 64×64" })).ToHaveAttributeAsync("aria-pressed", "true");

        await page.Locator(".mud-select").Filter(new() { HasText = "Model" }).First.ClickAsync();
        await page.GetByRole(AriaRole.Option).Filter(new() { HasText = "sd15-like" }).ClickAsync();
        await Assertions.Expect(width).ToHaveValueAsync("512");
        await Assertions.Expect(presets.GetByRole(AriaRole.Button, new() { Name = "1:1 512×512" })).ToHaveAttributeAsync("aria-pressed", "true");

        // Same pixel count, other shapes (A1111/SDXL-style buckets at 512).
        await presets.GetByRole(AriaRole.Button, new() { Name = "4:3 576×448" }).ClickAsync();
        await Assertions.Expect(width).ToHaveValueAsync("576");
        await Assertions.Expect(height).ToHaveValueAsync("448");
        await presets.GetByRole(AriaRole.Button, new() { Name = "Swap width and height" }).ClickAsync();
        await Assertions.Expect(width).ToHaveValueAsync("448");
        await Assertions.Expect(height).ToHaveValueAsync("576");
        await Assertions.Expect(presets.GetByRole(AriaRole.Button, new() { Name = "3:4 448×576" })).ToHaveAttributeAsync("aria-pressed", "true");
        await Assertions.Expect(page.Locator("[data-testid='size-warning']")).ToHaveCountAsync(0);

        // Typing a size far above the native one warns (and names the remedy); back near it, the warning goes.
        await width.FillAsync("1024");
        await height.FillAsync("1024");
        await Assertions.Expect(page.Locator("[data-testid='size-warning']")).ToContainTextAsync("trained on (512×512)");
        await Assertions.Expect(page.Locator("[data-testid='size-warning']")).ToContainTextAsync("Hires. fix");
        await height.FillAsync("128");
        await width.FillAsync("128");
        await Assertions.Expect(page.Locator("[data-testid='size-warning']")).ToContainTextAsync("far below");
        await presets.GetByRole(AriaRole.Button, new() { Name = "16:9 672×384" }).ClickAsync();
        await Assertions.Expect(page.Locator("[data-testid='size-warning']")).ToHaveCountAsync(0);
        app.AssertNoProblems();
    }

    private static void CopyFolder(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }
}
