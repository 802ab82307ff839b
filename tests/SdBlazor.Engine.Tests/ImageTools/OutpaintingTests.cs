using SdBlazor.Engine.Pipelines;
using SdBlazor.Engine.Tests.TestModels;
using SdBlazor.Shared;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace SdBlazor.Engine.Tests.ImageTools;

/// <summary>Outpainting: canvas, edge fill and generated mask (A1111's poor man's outpainting), then an inpaint of the border.</summary>
public sealed class OutpaintingTests : IDisposable
{
    private readonly EngineHarness _harness = new();

    public void Dispose() => _harness.Dispose();

    [Theory]
    // 64 + 16 = 80 → 128: all 64 new pixels go left.
    [InlineData(64, 16, 0, 128, 64)]
    // 64 + 5 + 6 = 75 → 128: the 64 new pixels shared 5:6 as A1111 shares them (left = 5·64/11 = 29).
    [InlineData(64, 5, 6, 128, 29)]
    // Only after: nothing before.
    [InlineData(60, 0, 10, 128, 0)]
    // Already a multiple of 64.
    [InlineData(64, 32, 32, 128, 32)]
    public void The_canvas_rounds_up_to_64_and_shares_the_extra_as_A1111(int size, int before, int after, int canvas, int offset)
    {
        var request = new GenerationRequest { Prompt = "x", OutpaintLeft = before, OutpaintRight = after };
        var (width, _, left, _) = Outpainting.Canvas(size, 64, request);
        Assert.Equal((canvas, offset), (width, left));
    }

    [Fact]
    public void The_border_stretches_the_edge_and_the_mask_covers_it_and_the_blur_inset()
    {
        using var image = new Image<Rgb24>(56, 64);
        for (var y = 0; y < 64; y++) for (var x = 0; x < 56; x++) image[x, y] = new Rgb24((byte)(x * 4), (byte)(y * 4), 7);
        // 56 + 8 = 64 wide (left 8); 64 + 8 → 128 high (all 64 new rows below).
        var (canvas, mask) = Outpainting.Expand(image, new GenerationRequest { Prompt = "x", OutpaintLeft = 8, OutpaintDown = 8, MaskBlur = 2 });
        using (canvas)
        using (mask)
        {
            Assert.Equal((64, 128), (canvas.Width, canvas.Height));
            Assert.Equal(image[0, 3], canvas[0, 3]);      // left border: the first column stretched
            Assert.Equal(image[5, 63], canvas[13, 127]);  // bottom border: the last row stretched
            Assert.Equal(image[4, 4], canvas[12, 4]);
            Assert.Equal(255, mask[7, 4].PackedValue);    // new area
            Assert.Equal(255, mask[9, 4].PackedValue);    // inset by the blur on the extended left side
            Assert.Equal(0, mask[10, 4].PackedValue);
            Assert.Equal(0, mask[63, 0].PackedValue);     // right and top were not extended: no inset there
            Assert.Equal(0, mask[12, 61].PackedValue);
            Assert.Equal(255, mask[12, 62].PackedValue);  // inset on the extended bottom side
        }
    }

    [Fact]
    public async Task Outpainting_generates_the_canvas_and_keeps_the_original()
    {
        using var init = new Image<Rgb24>(64, 64);
        for (var y = 0; y < 64; y++) for (var x = 0; x < 64; x++) init[x, y] = new Rgb24((byte)(x * 4), (byte)(y * 4), 90);
        using var stream = new MemoryStream();
        init.SaveAsPng(stream);
        using var result = await _harness.Engine.GenerateAsync(new GenerationRequest
        {
            Prompt = "a field", Seed = 2, Steps = 4, Sampler = "Euler", Strength = 0.8, InitImage = stream.ToArray(),
            OutpaintRight = 16, MaskBlur = 2, InpaintingFill = 1,
        }, null, CancellationToken.None);
        var image = result.Images[0].Image;
        Assert.Equal((128, 64), (image.Width, image.Height));
        for (var y = 0; y < 64; y++) for (var x = 0; x < 52; x++) Assert.True(init[x, y] == image[x, y], $"({x}, {y}) changed");
    }
}
