using Bunit;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Web;
using Microsoft.Extensions.Logging.Abstractions;
using MudBlazor.Services;
using SdBlazor.Engine.Pipelines;
using SdBlazor.Shared;
using SdBlazor.Web.Api.Extras;
using SdBlazor.Web.Components.Generation;
using SdBlazor.Web.Generation;
using SdBlazor.Web.Tests.Api;

namespace SdBlazor.Web.Tests.Components;

/// <summary>The Generate form's A1111 prompt tools: the live token counter, clip skip, emphasis and saved styles.</summary>
public sealed class GenerateFormPromptTests
{
    /// <summary>An engine that only lists the embedded default model (the counter needs nothing else).</summary>
    private sealed class ListingEngine : IGenerationEngine
    {
        public IReadOnlyList<ModelDescriptor> ListModels() => [new(DefaultModel.Name, DefaultModel.Folder, 64, 64, true, null)];
        public void RefreshModels() { }
        public Task<PreloadTimings> PreloadAsync(string? modelName = null, int? warmUpSize = null, CancellationToken cancellationToken = default) => throw new NotSupportedException();
        public Task<GenerationResult> GenerateAsync(GenerationRequest request, IStepProgressSink? progress, CancellationToken cancellationToken, Func<bool>? skipImage = null, int imagesPerUNetBatch = 0) => throw new NotSupportedException();
    }

    private static readonly PromptTokenCounter Counter = new(new ListingEngine(), NullLogger<PromptTokenCounter>.Instance);

    private static BunitContext NewContext()
    {
        var ctx = new BunitContext();
        ctx.JSInterop.Mode = JSRuntimeMode.Loose;
        ctx.Services.AddMudServices();
        ctx.SetRendererInfo(new RendererInfo("Server", true));
        return ctx;
    }

    private static IRenderedComponent<GenerateForm> RenderForm(BunitContext ctx, List<GenerationRequest> submitted, GenerateFormModel model, IReadOnlyList<PromptStyle>? styles = null) =>
        ctx.Render<GenerateForm>(p => p
            .Add(f => f.Model, model)
            .Add(f => f.Models, new[] { new ModelDescriptor(DefaultModel.Name, DefaultModel.Folder, 64, 64, true, null) })
            .Add(f => f.CountTokens, Counter.Count)
            .Add(f => f.Styles, styles ?? [])
            .Add(f => f.OnGenerate, (GenerationRequest r) => submitted.Add(r)));

    private static AngleSharp.Dom.IElement InputLabelled(IRenderedComponent<GenerateForm> form, string label)
    {
        var element = form.FindAll("label").Single(l => l.TextContent.Trim() == label);
        return form.Find($"#{element.GetAttribute("for")}");
    }

    [Fact]
    public void The_counter_counts_tokens_as_a1111_in_chunks_of_75()
    {
        // The tokenizer's own count for the typed text, without the syntax: "(red:1.3)" counts as "red".
        var tokenizer = SdBlazor.Engine.Tokenization.ClipTokenizer.Load(Path.Combine(DefaultModel.Folder, "tokenizer"));
        var expected = tokenizer.EncodeTokens("a red fox").Count;
        Assert.Equal(new PromptTokenCount(expected, 75), Counter.Count("a (red:1.3) fox", DefaultModel.Name));
        var longPrompt = string.Join(", ", Enumerable.Repeat("a red fox", 30));
        var count = Counter.Count(longPrompt, DefaultModel.Name)!.Value;
        Assert.True(count.Tokens > 75);
        Assert.Equal((count.Tokens + 74) / 75 * 75, count.Capacity);
        // Prompt editing: the longer of the texts counts.
        Assert.Equal(Counter.Count("a red fox and a big dog", DefaultModel.Name), Counter.Count("a [red fox:red fox and a big dog:5]", DefaultModel.Name));
        Assert.Null(Counter.Count("x", "no-such-model"));
    }

    [Fact]
    public async Task The_form_shows_the_count_beside_each_prompt_and_updates_it_while_typing()
    {
        await using var ctx = NewContext();
        var form = RenderForm(ctx, [], new GenerateFormModel());
        Assert.Equal("0/75", form.Find(".prompt-tokens").TextContent.Trim());
        var longPrompt = string.Join(", ", Enumerable.Repeat("a red fox", 30));
        InputLabelled(form, "Prompt").Input(longPrompt);
        Assert.Equal(Counter.Count(longPrompt, DefaultModel.Name).ToString(), form.Find(".prompt-tokens").TextContent.Trim());
        Assert.NotEqual("0/75", form.Find(".prompt-tokens").TextContent.Trim());
        InputLabelled(form, "Negative prompt").Input("blurry");
        Assert.Equal(Counter.Count("blurry", DefaultModel.Name).ToString(), form.Find(".negative-prompt-tokens").TextContent.Trim());
    }

    [Fact]
    public async Task Clip_skip_emphasis_and_styles_reach_the_request()
    {
        await using var ctx = NewContext();
        var submitted = new List<GenerationRequest>();
        var model = new GenerateFormModel { Styles = ["Cinematic", "Gone"] };
        var form = RenderForm(ctx, submitted, model, [new PromptStyle("Cinematic", "cinematic still of {prompt}", "cartoon")]);
        Assert.NotNull(InputLabelled(form, "Styles"));
        InputLabelled(form, "Prompt").Input("a fox");
        InputLabelled(form, "Clip skip").Input("2");
        model.Emphasis = "None";
        await form.FindAll("button").Single(b => b.TextContent.Trim() == "Generate").ClickAsync(new MouseEventArgs());

        var request = Assert.Single(submitted);
        Assert.Equal((2, "None"), (request.ClipSkip, request.Emphasis));
        Assert.Equal("cinematic still of a fox", request.Prompt);
        Assert.Equal("cartoon", request.NegativePrompt);
        // The text field keeps what was typed.
        Assert.Equal("a fox", model.Prompt);
    }

    [Fact]
    public async Task Clip_skip_is_kept_within_1_to_12()
    {
        await using var ctx = NewContext();
        var submitted = new List<GenerationRequest>();
        var form = RenderForm(ctx, submitted, new GenerateFormModel());
        InputLabelled(form, "Clip skip").Input("13");
        await form.FindAll("button").Single(b => b.TextContent.Trim() == "Generate").ClickAsync(new MouseEventArgs());
        Assert.Equal(GenerationLimits.MaxClipSkip, Assert.Single(submitted).ClipSkip);
        // A request built elsewhere is still checked by the shared validator.
        Assert.Contains(GenerationRequestValidator.Validate(new GenerationRequest { ClipSkip = 0 }), e => e.StartsWith("Clip skip must be between 1 and 12"));
    }
}
