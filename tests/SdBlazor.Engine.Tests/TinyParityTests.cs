using SdBlazor.Engine.Tests.TestModels;

namespace SdBlazor.Engine.Tests;

/// <summary>
/// The whole txt2img pipeline (seeded torch noise × σ_max, scale_model_input, CFG over [uncond, cond], Euler step,
/// decode of latents / 0.18215, diffusers' uint8 conversion) against an independent torch implementation of the
/// tiny model: <c>tools/engine/tiny_reference.py</c> wrote <c>Fixtures/tiny_parity</c>.
/// </summary>
public sealed class TinyParityTests
{
    [Fact]
    public async Task Pipeline_matches_the_torch_reference_of_the_tiny_model()
    {
        using var harness = new EngineHarness();
        await ParityCases.AssertAllMatch(harness.Engine, Path.Combine(DefaultModel.FixturesPath, "tiny_parity"), levels: 1);
    }
}
