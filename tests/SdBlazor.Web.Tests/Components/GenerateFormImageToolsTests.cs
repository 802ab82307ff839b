using Bunit;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Web;
using MudBlazor.Services;
using SdBlazor.Engine.Pipelines;
using SdBlazor.Shared;
using SdBlazor.Web.Components.Generation;

namespace SdBlazor.Web.Tests.Components;

/// <summary>The Generate form's Variation and Hires fix sections.</summary>
public sealed class GenerateFormImageToolsTests
{
    private static BunitContext NewContext()
    {
        var ctx = new BunitContext();
        ctx.JSInterop.Mode = JSRuntimeMode.Loose;
        ctx.Services.AddMudServices();
        ctx.SetRendererInfo(new RendererInfo("Server", true));
        return ctx;
    }

    private static IRenderedComponent<GenerateForm> RenderForm(BunitContext ctx, List<GenerationRequest> submitted, GenerateFormModel? model = null) =>
        ctx.Render<GenerateForm>(p => p
            .Add(f => f.Model, model ?? new GenerateFormModel())
            .Add(f => f.Models, [new ModelDescriptor("form-model", "/models/form-model", 64, 64, true, null)])
            .Add(f => f.Upscalers, ["Latent", "Lanczos", "4x-Sharp"])
            .Add(f => f.OnGenerate, (GenerationRequest r) => submitted.Add(r)));

    private static AngleSharp.Dom.IElement InputLabelled(IRenderedComponent<GenerateForm> form, string label)
    {
        var labelElement = form.FindAll("label").Single(l => l.TextContent.Trim() == label);
        return form.Find($"#{labelElement.GetAttribute("for")}");
    }

    private static Task Generate(IRenderedComponent<GenerateForm> form) =>
        form.FindAll("button").Single(b => b.TextContent.Trim() == "Generate").ClickAsync(new MouseEventArgs());

    [Fact]
    public async Task Variation_section_submits_subseed_strength_and_seed_resize()
    {
        await using var ctx = NewContext();
        var submitted = new List<GenerationRequest>();
        var form = RenderForm(ctx, submitted);
        Assert.DoesNotContain(form.FindAll("label"), l => l.TextContent.Trim() == "Variation seed");

        form.Find("[data-testid=variation-section] input[type=checkbox]").Change(true);
        InputLabelled(form, "Variation seed").Input("77");
        InputLabelled(form, "Variation strength").Input("0.3");
        InputLabelled(form, "Resize seed from width").Input("96");
        InputLabelled(form, "Resize seed from height").Input("48");
        await Generate(form);

        var request = Assert.Single(submitted);
        Assert.Equal((77L, 0.3, 96, 48), (request.Subseed, request.SubseedStrength, request.SeedResizeFromWidth, request.SeedResizeFromHeight));
    }

    [Fact]
    public async Task A_bad_variation_strength_is_shown_and_nothing_is_submitted()
    {
        await using var ctx = NewContext();
        var submitted = new List<GenerationRequest>();
        var form = RenderForm(ctx, submitted);
        form.Find("[data-testid=variation-section] input[type=checkbox]").Change(true);
        InputLabelled(form, "Variation strength").Input("1.5");
        await Generate(form);

        Assert.Empty(submitted);
        Assert.Contains("Variation strength must be between 0 and 1", form.Markup);
    }

    [Fact]
    public async Task Hires_section_submits_the_second_pass_settings_and_shows_the_target_size()
    {
        await using var ctx = NewContext();
        var submitted = new List<GenerationRequest>();
        var form = RenderForm(ctx, submitted);

        form.Find("[data-testid=hires-section] input[type=checkbox]").Change(true);
        InputLabelled(form, "Hires scale").Input("1.5");
        InputLabelled(form, "Hires steps").Input("5");
        InputLabelled(form, "Hires denoising strength").Input("0.6");
        InputLabelled(form, "Hires prompt").Input("sharp details");
        Assert.Contains("64×64 → 96×96", form.Markup);
        await Generate(form);

        var request = Assert.Single(submitted);
        Assert.True(request.EnableHr);
        Assert.Equal((1.5, 5, 0.6, "Latent", "sharp details"), (request.HrScale, request.HrSecondPassSteps, request.Strength, request.HrUpscaler, request.HrPrompt));
        Assert.Null(request.InitImage);
    }

    [Fact]
    public async Task Hires_fix_is_not_offered_for_img2img_and_not_sent()
    {
        await using var ctx = NewContext();
        var submitted = new List<GenerationRequest>();
        var model = new GenerateFormModel { EnableHr = true, InitImage = Api.Png.Gradient(8, 8), InitImageName = "x.png" };
        var form = RenderForm(ctx, submitted, model);

        Assert.Empty(form.FindAll("[data-testid=hires-section]"));
        await Generate(form);
        Assert.False(Assert.Single(submitted).EnableHr);
    }
}
