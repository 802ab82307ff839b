using SdBlazor.Engine.Onnx;
using SdBlazor.Engine.Tests.TestModels;
using SdBlazor.Shared;
using Xunit;

namespace SdBlazor.Engine.Tests;

/// <summary>
/// A UNet session per shape with ONNX Runtime's free-dimension overrides (<see cref="EngineOptions.FixedUNetShapes"/>,
/// on by default for DirectML only). DirectML cannot run here, so <see cref="FixedShapes.Always"/> runs the same code
/// on the CPU provider: the overrides must reach the session, follow every change of size, batch and CFG, and change
/// nothing in the images.
/// </summary>
public sealed class FixedShapeTests
{
    private static GenerationRequest Request(int size, double cfg = 7.5) =>
        new() { Prompt = "a red circle", Steps = 3, Seed = 5, Width = size, Height = size, CfgScale = cfg };

    private static async Task<byte[]> Generate(EngineHarness harness, GenerationRequest request)
    {
        using var result = await harness.Engine.GenerateAsync(request, null, CancellationToken.None);
        return ParityCases.Bytes(result.Images[0].Image);
    }

    [Fact]
    public async Task Every_new_shape_gets_its_own_fixed_session_and_the_images_do_not_change()
    {
        using var fixedShapes = new EngineHarness(configure: o => o.FixedUNetShapes = FixedShapes.Always);
        using var dynamic = new EngineHarness(configure: o => o.FixedUNetShapes = FixedShapes.Never);

        Assert.Equal(await Generate(dynamic, Request(64)), await Generate(fixedShapes, Request(64)));
        var unet = fixedShapes.Engine.Resident!.UNet;
        var first = unet.Session;
        Assert.Equal(new Dictionary<string, long> { ["batch"] = 2, ["height"] = 8, ["width"] = 8 }, unet.FixedShape);

        Assert.Equal(await Generate(dynamic, Request(64)), await Generate(fixedShapes, Request(64)));
        Assert.Same(first, unet.Session); // same shape: the session is kept

        Assert.Equal(await Generate(dynamic, Request(128)), await Generate(fixedShapes, Request(128)));
        Assert.NotSame(first, unet.Session);
        Assert.Equal(new Dictionary<string, long> { ["batch"] = 2, ["height"] = 16, ["width"] = 16 }, unet.FixedShape);
        Assert.Equal([2, 4, 16, 16], unet.Session.InputMetadata("sample").Dimensions); // ONNX Runtime applied the overrides

        Assert.Equal(await Generate(dynamic, Request(128, cfg: 1)), await Generate(fixedShapes, Request(128, cfg: 1)));
        Assert.Equal(1, unet.FixedShape["batch"]); // no CFG: batch 1
    }

    [Fact]
    public async Task Auto_leaves_the_cpu_provider_with_one_session_for_every_shape()
    {
        using var harness = new EngineHarness(configure: o => o.FixedUNetShapes = FixedShapes.Auto);
        using var result = await harness.Engine.GenerateAsync(Request(64), null, CancellationToken.None);

        Assert.Empty(harness.Engine.Resident!.UNet.FixedShape);
    }

    [Fact]
    public async Task A_timestep_of_batch_length_shares_the_batch_override()
    {
        var model = new TinyModelOptions { Timestep = TimestepLayout.Batch };
        using var fixedShapes = new EngineHarness(model, configure: o => o.FixedUNetShapes = FixedShapes.Always);
        using var dynamic = new EngineHarness(model, configure: o => o.FixedUNetShapes = FixedShapes.Never);

        Assert.Equal(await Generate(dynamic, Request(64)), await Generate(fixedShapes, Request(64)));
        Assert.Equal(new Dictionary<string, long> { ["batch"] = 2, ["height"] = 8, ["width"] = 8 }, fixedShapes.Engine.Resident!.UNet.FixedShape);
    }
}
