using SdBlazor.Shared;

namespace SdBlazor.Engine.Tests.Checkpoints;

/// <summary>
/// CFG 1 (guidance off, as Turbo and LCM models are run) costs one batch-1 UNet call per step for every family, and a
/// negative prompt given with it is reported as ignored; above 1 each step runs [uncond, cond] together.
/// </summary>
public sealed class GuidanceOffTests : IDisposable
{
    private readonly CheckpointHarness _h = new();

    public void Dispose() => _h.Dispose();

    [Theory]
    [InlineData("tiny")]
    [InlineData("sdxl-tiny")]
    public async Task Cfg_1_runs_the_unet_once_per_step_on_the_prompt_alone(string model)
    {
        if (model == "sdxl-tiny")
        {
            File.Copy(Path.Combine(AppContext.BaseDirectory, "Fixtures", "checkpoints", "sdxl-tiny.safetensors"), Path.Combine(_h.ModelsPath, "sdxl-tiny.safetensors"));
            _h.Engine.Engine.RefreshModels();
        }

        var (runs, items, warnings) = await Generate(model, cfg: 1, negative: "");
        Assert.Equal((3L, 3L), (runs, items));
        Assert.Empty(warnings);

        (runs, items, warnings) = await Generate(model, cfg: 1, negative: "blurry");
        Assert.Equal((3L, 3L), (runs, items));
        Assert.Contains("negative prompt was ignored", Assert.Single(warnings));

        (runs, items, warnings) = await Generate(model, cfg: 4.5, negative: "blurry");
        Assert.Equal((3L, 6L), (runs, items));
        Assert.Empty(warnings);
    }

    private async Task<(long Runs, long Items, IReadOnlyList<string> Warnings)> Generate(string model, double cfg, string negative)
    {
        var before = _h.Engine.Engine.Resident?.UNet;
        long runs0 = before?.Runs ?? 0, items0 = before?.RunItems ?? 0;
        using var result = await _h.Engine.Engine.GenerateAsync(new GenerationRequest
        {
            Prompt = "a red bicycle", NegativePrompt = negative, Seed = 5, Steps = 3, CfgScale = cfg, Model = model, Sampler = "Euler",
        }, null, CancellationToken.None);
        Assert.Single(result.Images);
        var unet = _h.Engine.Engine.Resident!.UNet;
        if (!ReferenceEquals(unet, before)) (runs0, items0) = (0, 0);
        return (unet.Runs - runs0, unet.RunItems - items0, result.Parameters.Warnings);
    }
}
