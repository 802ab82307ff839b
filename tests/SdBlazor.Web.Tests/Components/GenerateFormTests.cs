using Bunit;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Web;
using MudBlazor;
using MudBlazor.Services;
using SdBlazor.Engine.Pipelines;
using SdBlazor.Shared;
using SdBlazor.Web.Components.Generation;

namespace SdBlazor.Web.Tests.Components;

public sealed class GenerateFormTests
{
    private static BunitContext NewContext()
    {
        var ctx = new BunitContext();
        ctx.JSInterop.Mode = JSRuntimeMode.Loose;
        ctx.Services.AddMudServices();
        ctx.SetRendererInfo(new RendererInfo("Server", true));
        return ctx;
    }

    private static IRenderedComponent<GenerateForm> RenderForm(BunitContext ctx, List<GenerationRequest> submitted, GenerateFormModel? model = null, long? lastSeed = null) =>
        ctx.Render<GenerateForm>(p => p
            .Add(f => f.Model, model ?? new GenerateFormModel())
            .Add(f => f.Models, [new ModelDescriptor("form-model", "/models/form-model", 96, 80, true, null)])
            .Add(f => f.LastSeed, lastSeed)
            .Add(f => f.OnGenerate, (GenerationRequest r) => submitted.Add(r)));

    private static AngleSharp.Dom.IElement InputLabelled(IRenderedComponent<GenerateForm> form, string label)
    {
        var labelElement = form.FindAll("label").SingleOrDefault(l => l.TextContent.Trim() == label)
            ?? throw new Xunit.Sdk.XunitException($"No label '{label}'. Labels: {string.Join(" | ", form.FindAll("label").Select(l => l.TextContent.Trim()))}");
        var id = labelElement.GetAttribute("for");
        Assert.False(string.IsNullOrEmpty(id), $"Label '{label}' is not tied to an input");
        return form.Find($"#{id}");
    }

    private static AngleSharp.Dom.IElement Button(IRenderedComponent<GenerateForm> form, string name) =>
        form.FindAll("button").Single(b => b.TextContent.Trim() == name);

    // Found and clicked on the renderer's thread: a field's own late re-render (helper text) cannot slip in between.
    private static Task ClickGenerateAsync(IRenderedComponent<GenerateForm> form) =>
        form.InvokeAsync(() => Button(form, "Generate").ClickAsync(new MouseEventArgs()));

    [Fact]
    public async Task Every_input_has_its_accessible_label()
    {
        await using var ctx = NewContext();
        var form = RenderForm(ctx, []);
        foreach (var label in new[] { "Prompt", "Negative prompt", "Model", "Sampler", "Schedule type", "Steps", "CFG scale", "Seed", "Width", "Height", "Batch count", "Batch size" })
            Assert.NotNull(InputLabelled(form, label));
        Assert.Single(form.FindAll("button"), b => b.TextContent.Trim() == "Generate");
        Assert.NotNull(form.Find("input[type=file][aria-label='Init image']"));
    }

    [Fact]
    public async Task Size_defaults_to_the_models_native_size()
    {
        await using var ctx = NewContext();
        var model = new GenerateFormModel();
        RenderForm(ctx, [], model);
        Assert.Equal((96, 80), (model.Width, model.Height));
        Assert.Equal("form-model", model.Model);
    }

    [Fact]
    public async Task Generate_submits_what_was_typed()
    {
        await using var ctx = NewContext();
        var submitted = new List<GenerationRequest>();
        var form = RenderForm(ctx, submitted);
        InputLabelled(form, "Prompt").Input("a red fox in snow");
        InputLabelled(form, "Negative prompt").Input("blurry");
        InputLabelled(form, "Steps").Input("33");
        InputLabelled(form, "Seed").Input("1234");
        await ClickGenerateAsync(form);

        var request = Assert.Single(submitted);
        Assert.Equal("a red fox in snow", request.Prompt);
        Assert.Equal("blurry", request.NegativePrompt);
        Assert.Equal(33, request.Steps);
        Assert.Equal(1234, request.Seed);
        Assert.Equal((96, 80), (request.Width, request.Height));
        Assert.Equal("form-model", request.Model);
    }

    [Fact]
    public async Task Reuse_last_seed_takes_the_previous_jobs_seed()
    {
        await using var ctx = NewContext();
        var submitted = new List<GenerationRequest>();
        var form = RenderForm(ctx, submitted, new GenerateFormModel { SeedMode = SeedMode.ReuseLast }, lastSeed: 987654);
        await ClickGenerateAsync(form);
        Assert.Equal(987654, Assert.Single(submitted).Seed);
    }

    [Fact]
    public async Task Ctrl_Enter_generates()
    {
        await using var ctx = NewContext();
        var submitted = new List<GenerationRequest>();
        var form = RenderForm(ctx, submitted);
        InputLabelled(form, "Prompt").Input("castle");
        await form.Find(".generate-form").KeyDownAsync(new KeyboardEventArgs { Key = "Enter" });
        Assert.Empty(submitted);
        await form.Find(".generate-form").KeyDownAsync(new KeyboardEventArgs { Key = "Enter", CtrlKey = true });
        Assert.Equal("castle", Assert.Single(submitted).Prompt);
    }

    [Fact]
    public async Task Out_of_range_values_show_what_is_allowed_and_do_not_submit()
    {
        await using var ctx = NewContext();
        var submitted = new List<GenerationRequest>();
        var form = RenderForm(ctx, submitted);
        InputLabelled(form, "Steps").Input("500");
        InputLabelled(form, "Width").Input("100");
        await ClickGenerateAsync(form);

        Assert.Empty(submitted);
        Assert.Contains("Steps must be between 1 and 150 (got 500).", form.Markup);
        Assert.Contains("Width must be a multiple of 8 between 64 and 2048 (got 100).", form.Markup);

        InputLabelled(form, "Steps").Input("40");
        InputLabelled(form, "Width").Input("104");
        await ClickGenerateAsync(form);
        Assert.Equal((40, 104), (Assert.Single(submitted).Steps, submitted[0].Width));
        Assert.DoesNotContain("Steps must be between", form.Markup);
    }

    [Fact]
    public async Task Init_image_must_be_a_real_image_and_sets_img2img()
    {
        await using var ctx = NewContext();
        var submitted = new List<GenerationRequest>();
        var form = RenderForm(ctx, submitted);
        var upload = form.FindComponent<Microsoft.AspNetCore.Components.Forms.InputFile>();

        upload.UploadFiles(InputFileContent.CreateFromText("not an image", "notes.png"));
        Assert.Contains("notes.png is not a PNG, JPEG or WebP image.", form.Markup);

        // A PNG signature alone is not enough any more: the file is decoded when chosen (issue 33's drop zone).
        byte[] truncated = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13];
        upload.UploadFiles(InputFileContent.CreateFromBinary(truncated, "cut.png"));
        form.WaitForAssertion(() => Assert.Contains("cut.png: The init image could not be read", form.Markup));

        var png = SdBlazor.Web.Tests.Browser.MaskEditorBrowserTests.Pattern(16);
        upload.UploadFiles(InputFileContent.CreateFromBinary(png, "start.png"));
        form.WaitForAssertion(() => Assert.Contains("16×16 px", form.Markup));
        await ClickGenerateAsync(form);
        Assert.Equal(png, Assert.Single(submitted).InitImage);
        Assert.Equal(0.75, submitted[0].Strength);
    }
}
