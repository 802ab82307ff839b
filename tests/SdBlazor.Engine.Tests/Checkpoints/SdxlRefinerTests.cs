using System.Text.Json.Nodes;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using SdBlazor.Engine.Imaging;
using SdBlazor.Engine.Pipelines;
using SdBlazor.Engine.Tokenization;
using SdBlazor.Shared;
using SixLabors.ImageSharp.PixelFormats;

namespace SdBlazor.Engine.Tests.Checkpoints;

/// <summary>
/// The SDXL refiner (A1111's <c>refiner_checkpoint</c> / <c>refiner_switch_at</c>): the tiny SGM refiner checkpoint
/// (tools/make_checkpoints --variant sdxl_refiner) imports with its graph set (bigG only, 5 time ids) and, as a copied
/// diffusers refiner folder, refines the tiny SDXL; the switch happens where A1111's completed ratio reaches the fraction, on the latents as they
/// are; the refiner is conditioned on bigG alone with the aesthetic scores; the infotext names it.
/// </summary>
public sealed class SdxlRefinerTests : IDisposable
{
    private readonly CheckpointHarness _h = new();

    public void Dispose() => _h.Dispose();

    private static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", name);

    /// <summary>
    /// The tiny SDXL and the tiny SGM refiner checkpoint (tools/make_checkpoints, Fixtures/checkpoints) imported; the
    /// refiner's converted folder is also copied as a diffusers refiner folder "xl-refiner" (the folder path).
    /// </summary>
    private async Task<string> SetUpAsync()
    {
        foreach (var name in new[] { "sdxl-tiny", "sdxl-refiner-tiny" })
            File.Copy(Fixture(Path.Combine("checkpoints", name + ".safetensors")), Path.Combine(_h.ModelsPath, name + ".safetensors"));
        _h.Engine.Engine.RefreshModels();
        var listed = _h.Engine.Engine.ListModels().Single(m => m.Name == "sdxl-refiner-tiny");
        Assert.Null(listed.Error);
        Assert.True(listed.IsSdxl);
        await _h.Engine.Engine.PreloadAsync("sdxl-refiner-tiny");
        Assert.True(_h.Engine.Engine.Resident!.Folder.IsRefiner);
        await _h.Engine.Engine.PreloadAsync("sdxl-tiny");
        var converted = Assert.Single(Directory.GetDirectories(_h.CachePath, "sdxl-refiner-tiny-*"));
        Assert.False(Directory.Exists(Path.Combine(converted, "text_encoder")));
        var refiner = Path.Combine(_h.ModelsPath, "xl-refiner");
        foreach (var dir in Directory.GetDirectories(converted))
            CopyDirectory(dir, Path.Combine(refiner, Path.GetFileName(dir)));
        foreach (var file in Directory.GetFiles(converted)) File.Copy(file, Path.Combine(refiner, Path.GetFileName(file)));
        _h.Engine.Engine.RefreshModels();
        Assert.Contains(_h.Engine.Engine.ListModels(), m => m.Name == "xl-refiner" && m.Error is null);
        return refiner;
    }

    [Fact]
    public async Task The_refiner_checkpoint_itself_refines_by_name()
    {
        await SetUpAsync();
        using var viaCheckpoint = await _h.Engine.Engine.GenerateAsync(Request("sdxl-refiner-tiny", 0.5), null, CancellationToken.None);
        var viaFolder = await PixelsAsync(Request("xl-refiner", 0.5));
        Assert.Equal(viaFolder, Pixels(viaCheckpoint));
        Assert.StartsWith("sdxl-refiner-tiny [", viaCheckpoint.Parameters.Refiner);
    }

    private static GenerationRequest Request(string? refiner, double switchAt, string negative = "blurry") => new()
    {
        Prompt = "a lighthouse at dusk", NegativePrompt = negative, Seed = 5, Steps = 4, CfgScale = 5, Model = "sdxl-tiny",
        Sampler = "Euler", Width = 64, Height = 64, RefinerCheckpoint = refiner, RefinerSwitchAt = switchAt,
    };

    [Fact]
    public async Task The_refiner_takes_over_where_the_completed_ratio_reaches_switch_at_conditioned_on_bigG_and_aesthetic_scores()
    {
        var refinerFolder = await SetUpAsync();
        var models = new List<string>();
        using var result = await _h.Engine.Engine.GenerateAsync(Request("xl-refiner", 0.5), new ModelSink(_h, models), CancellationToken.None);
        Assert.Single(result.Images);

        // Euler over 4 steps visits timesteps 999, 666, 333, 0 (leading spacing of the tiny SDXL's scheduler): completed
        // ratios 0, 0.333, 0.666, 0.999, so the last two steps are the refiner's.
        Assert.Equal(["sdxl-tiny", "sdxl-tiny", "xl-refiner", "xl-refiner"], models);
        var resident = _h.Engine.Engine.Resident!;
        Assert.True(resident.Folder.IsRefiner);
        Assert.Equal(5, resident.UNet.TimeIdsWidth);
        Assert.Equal(new float[] { 64, 64, 0, 0, 2.5f, 64, 64, 0, 0, 6f }, resident.UNet.TimeIds.ToArray());

        var (negative, negativePooled) = BigG(refinerFolder, "blurry");
        var (positive, pooled) = BigG(refinerFolder, "a lighthouse at dusk");
        AssertClose("encoder_hidden_states", [.. negative, .. positive], resident.UNet.EncoderHiddenStates.ToArray());
        AssertClose("text_embeds", [.. negativePooled, .. pooled], resident.UNet.TextEmbeds.ToArray());

        var infotext = Infotext.Format(result.Parameters.ToImageParameters(5));
        var hash = _h.Engine.Registry.Sha256(Models.ModelFolder.Describe(refinerFolder))[..10];
        Assert.Contains($"Refiner: xl-refiner [{hash}], Refiner switch at: 0.5", infotext);
        var parsed = Infotext.ToParameters(Infotext.Parse(infotext));
        Assert.Equal(($"xl-refiner [{hash}]", 0.5), (parsed.Refiner, parsed.RefinerSwitchAt));
    }

    [Fact]
    public async Task Latents_are_handed_over_as_they_are_and_a_switch_never_reached_changes_nothing()
    {
        await SetUpAsync();
        var plain = await PixelsAsync(Request(null, 0.8));
        // Completed ratio never reaches 1 ((999 − 0) / 1000): A1111 never switches and writes no Refiner key.
        using (var never = await _h.Engine.Engine.GenerateAsync(Request("xl-refiner", 1), null, CancellationToken.None))
        {
            Assert.Equal(plain, Pixels(never));
            Assert.Null(never.Parameters.Refiner);
            Assert.DoesNotContain("Refiner", Infotext.Format(never.Parameters.ToImageParameters(5)));
        }
        var refined = await PixelsAsync(Request("xl-refiner", 0.5));
        Assert.NotEqual(plain, refined);
        // Batches start on the base again: two images of one request equal two requests of one image.
        using var two = await _h.Engine.Engine.GenerateAsync(Request("xl-refiner", 0.5) with { BatchCount = 2 }, null, CancellationToken.None);
        Assert.Equal(refined, Pixels(two, 0));
        Assert.Equal(await PixelsAsync(Request("xl-refiner", 0.5) with { Seed = 6 }), Pixels(two, 1));
    }

    [Fact]
    public async Task A_refiner_of_another_family_an_unknown_one_or_a_bad_fraction_is_refused_and_the_queue_goes_on()
    {
        await SetUpAsync();
        var family = await Assert.ThrowsAsync<GenerationValidationException>(() => _h.Engine.Engine.GenerateAsync(
            Request("tiny", 0.5), null, CancellationToken.None));
        Assert.Contains("both must be SDXL models", family.Message);
        var reverse = await Assert.ThrowsAsync<GenerationValidationException>(() => _h.Engine.Engine.GenerateAsync(
            Request("xl-refiner", 0.5) with { Model = "tiny", Width = 64, Height = 64 }, null, CancellationToken.None));
        Assert.Contains("both must be SDXL models", reverse.Message);
        var unknown = await Assert.ThrowsAsync<GenerationValidationException>(() => _h.Engine.Engine.GenerateAsync(
            Request("no-such-refiner", 0.5), null, CancellationToken.None));
        Assert.Contains("Unknown refiner 'no-such-refiner'", unknown.Message);
        var fraction = await Assert.ThrowsAsync<GenerationValidationException>(() => _h.Engine.Engine.GenerateAsync(
            Request("xl-refiner", 1.5), null, CancellationToken.None));
        Assert.Contains("Refiner switch at must be between 0 and 1", fraction.Message);
        var hires = await Assert.ThrowsAsync<GenerationValidationException>(() => _h.Engine.Engine.GenerateAsync(
            Request("xl-refiner", 0.5) with { EnableHr = true, Strength = 0.5 }, null, CancellationToken.None));
        Assert.Contains("hires fix", hires.Message);
        // "None" is no refiner, as in A1111's API.
        using var none = await _h.Engine.Engine.GenerateAsync(Request("None", 0.5), null, CancellationToken.None);
        Assert.Null(none.Parameters.Refiner);
        Assert.Equal(await PixelsAsync(Request(null, 0.5)), Pixels(none));
    }

    private async Task<byte[]> PixelsAsync(GenerationRequest request)
    {
        using var result = await _h.Engine.Engine.GenerateAsync(request, null, CancellationToken.None);
        return Pixels(result);
    }

    private static byte[] Pixels(GenerationResult result, int index = 0)
    {
        var image = result.Images[index].Image;
        var bytes = new byte[image.Width * image.Height * 3];
        image.CopyPixelDataTo(bytes);
        return bytes;
    }

    /// <summary>Which model ran each step (read while the step is reported).</summary>
    private sealed class ModelSink(CheckpointHarness h, List<string> models) : IStepProgressSink
    {
        public void OnStep(in StepProgress progress) => models.Add(h.Engine.Engine.ResidentModelName!);
    }

    /// <summary>bigG's penultimate states and pooled output, run directly on the folder's graph.</summary>
    private static (float[] Hidden, float[] Pooled) BigG(string folder, string prompt)
    {
        var ids = ClipTokenizer.Load(Path.Combine(folder, "tokenizer_2")).Encode(prompt);
        using var session = new InferenceSession(Path.Combine(folder, "text_encoder_2", "model.onnx"));
        using var results = session.Run([NamedOnnxValue.CreateFromTensor("input_ids", new DenseTensor<int>(ids, [1, ids.Length]))]);
        var layers = results.Count(r => r.Name.StartsWith("hidden_states.", StringComparison.Ordinal)) - 1;
        var hidden = results.Single(r => r.Name == $"hidden_states.{layers - 1}").AsEnumerable<float>().ToArray();
        var pooled = results.Single(r => r.Name == "text_embeds").AsEnumerable<float>().ToArray();
        Assert.Equal(ClipTokenizer.ContextLength * 32, hidden.Length);
        return (hidden, pooled);
    }

    private static void CopyDirectory(string source, string target)
    {
        Directory.CreateDirectory(target);
        foreach (var file in Directory.GetFiles(source)) File.Copy(file, Path.Combine(target, Path.GetFileName(file)));
    }

    private static void AssertClose(string what, float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        var worst = expected.Select((v, i) => Math.Abs(v - actual[i])).Max();
        Assert.True(worst <= 1e-5f, $"{what}: max |engine − reference| = {worst:g3}");
    }
}
