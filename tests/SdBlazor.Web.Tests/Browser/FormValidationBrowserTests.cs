using Microsoft.Playwright;
using SdBlazor.Web.Tests.Support;

namespace SdBlazor.Web.Tests.Browser;

/// <summary>Issue 33, defect 7: numeric fields say what is allowed and flag a wrong value as it is typed.</summary>
public sealed class FormValidationBrowserTests
{
    [Fact]
    public async Task Numbers_are_checked_while_typing_and_a_negative_seed_is_not_silently_random()
    {
        await using var browser = await BrowserApp.StartAsync();
        var page = browser.Page;
        await browser.OpenAsync();

        // What is allowed is said before anything is wrong.
        await Assertions.Expect(FieldOf(page, "Seed")).ToContainTextAsync("-1 = random");
        await Assertions.Expect(FieldOf(page, "Width")).ToContainTextAsync("multiple of 8");
        await Assertions.Expect(FieldOf(page, "Steps")).ToContainTextAsync("1–150");

        // Typed, not submitted: each field flags its own value at once.
        await page.GetByLabel("Width", new() { Exact = true }).FillAsync("513");
        await Assertions.Expect(FieldOf(page, "Width")).ToContainTextAsync("Width must be a multiple of 8");
        await Assertions.Expect(page.GetByLabel("Width", new() { Exact = true })).ToHaveAttributeAsync("aria-invalid", "true");
        await page.GetByLabel("Steps", new() { Exact = true }).FillAsync("151");
        await Assertions.Expect(FieldOf(page, "Steps")).ToContainTextAsync("Steps must be between 1 and 150");
        await page.GetByLabel("Width", new() { Exact = true }).FillAsync("512");
        await Assertions.Expect(FieldOf(page, "Width")).Not.ToContainTextAsync("must be");

        // -5 is a mistake, not "random": it stays, flagged, and nothing is generated.
        await page.GetByLabel("Seed", new() { Exact = true }).FillAsync("-5");
        await Assertions.Expect(FieldOf(page, "Seed")).ToContainTextAsync("Seed must be -1 (random) or a non-negative number");
        await Assertions.Expect(page.GetByLabel("Seed", new() { Exact = true })).ToHaveValueAsync("-5");
        await Assertions.Expect(SeedMode(page)).ToHaveTextAsync("Fixed");
        await page.GetByLabel("Seed", new() { Exact = true }).FillAsync("-1");
        await Assertions.Expect(FieldOf(page, "Seed")).Not.ToContainTextAsync("must be");
        await Assertions.Expect(SeedMode(page)).ToHaveTextAsync("Random");
        browser.AssertNoProblems();
    }

    private static ILocator SeedMode(IPage page) => page.GetByRole(AriaRole.Combobox, new() { Name = "Seed mode", Exact = true });

    // The MudBlazor field around an input: its label, the input and the helper or error text under it.
    internal static ILocator FieldOf(IPage page, string label) =>
        page.Locator(".mud-input-control").Filter(new() { Has = page.GetByLabel(label, new() { Exact = true }) });
}
