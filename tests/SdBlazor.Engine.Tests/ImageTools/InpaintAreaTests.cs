using SdBlazor.Engine.Pipelines;
using SdBlazor.Engine.Tests.TestModels;
using SdBlazor.Shared;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace SdBlazor.Engine.Tests.ImageTools;

/// <summary>"Inpaint area: Only masked" (A1111's <c>inpaint_full_res</c> + <c>inpaint_full_res_padding</c>).</summary>
public sealed class InpaintAreaTests : IDisposable
{
    private readonly EngineHarness _harness = new();

    public void Dispose() => _harness.Dispose();

    private static byte[] Png<T>(Image<T> image) where T : unmanaged, IPixel<T>
    {
        using var stream = new MemoryStream();
        image.SaveAsPng(stream);
        return stream.ToArray();
    }

    [Theory]
    // Wider than the 1:1 generation: the height grows by the difference, split evenly (A1111's expand_crop_region).
    [InlineData(10, 10, 30, 20, 10, 5, 30, 25)]
    // At the bottom edge the box is shifted back inside the image.
    [InlineData(0, 90, 20, 100, 0, 80, 20, 100)]
    // Taller than wide: the width grows.
    [InlineData(40, 0, 50, 30, 30, 0, 60, 30)]
    public void The_box_is_widened_to_the_generation_aspect_as_A1111_does(int x1, int y1, int x2, int y2, int ex1, int ey1, int ex2, int ey2)
    {
        Assert.Equal((ex1, ey1, ex2, ey2), InpaintCrop.Expand(x1, y1, x2, y2, 64, 64, 100, 100));
    }

    [Fact]
    public void The_box_is_the_masks_bounding_box_plus_padding_inside_the_image()
    {
        using var mask = new Image<L8>(100, 80);
        for (var y = 30; y < 40; y++) for (var x = 20; x < 40; x++) mask[x, y] = new L8(255);
        // bbox (20, 30, 40, 40) + 5 → (15, 25, 45, 45): 30×20, widened to 64×32's 2:1 → 40 wide.
        Assert.Equal((10, 25, 50, 45), InpaintCrop.Region(mask, 5, 64, 32));
        using var empty = new Image<L8>(10, 10);
        Assert.Null(InpaintCrop.Region(empty, 5, 64, 64));
    }

    [Fact]
    public async Task Only_the_box_is_generated_and_every_pixel_outside_it_is_the_original()
    {
        using var init = new Image<Rgb24>(256, 192);
        for (var y = 0; y < 192; y++) for (var x = 0; x < 256; x++) init[x, y] = new Rgb24((byte)x, (byte)(y + 30), (byte)((x ^ y) & 255));
        using var mask = new Image<L8>(256, 192);
        for (var y = 40; y < 70; y++) for (var x = 150; x < 180; x++) mask[x, y] = new L8(255);

        var request = new GenerationRequest
        {
            Prompt = "a dog", Steps = 4, Seed = 9, Sampler = "Euler", Width = 64, Height = 64, Strength = 0.9,
            InitImage = Png(init), Mask = Png(mask), MaskBlur = 2, InpaintingFill = 1, InpaintFullRes = true, InpaintFullResPadding = 8,
        };
        using var result = await _harness.Engine.GenerateAsync(request, null, CancellationToken.None);
        var image = result.Images[0].Image;
        Assert.Equal((256, 192), (image.Width, image.Height));

        // The box: the blurred mask's extent (blur 2 reaches < 8 px) plus 8 px padding, squared — inside (126..204, 16..94).
        int changedInside = 0, x0 = 126, x1 = 204, y0 = 16, y1 = 94;
        for (var y = 0; y < 192; y++)
            for (var x = 0; x < 256; x++)
            {
                if (x < x0 || x >= x1 || y < y0 || y >= y1) Assert.True(init[x, y] == image[x, y], $"pixel ({x}, {y}) outside the box changed");
                else if (x >= 155 && x < 175 && y >= 45 && y < 65 && init[x, y] != image[x, y]) changedInside++;
            }
        Assert.True(changedInside > 300, $"only {changedInside} of 400 masked pixels were repainted");

        var infotext = SdBlazor.Engine.Imaging.Infotext.Format(SdBlazor.Engine.Imaging.ResolvedParametersExtensions.ToImageParameters(result.Parameters, 9));
        Assert.Contains("Mask blur: 2, Inpaint area: Only masked, Masked area padding: 8", infotext);
        Assert.Equal(8, SdBlazor.Engine.Imaging.Infotext.ToParameters(SdBlazor.Engine.Imaging.Infotext.Parse(infotext)).MaskedAreaPadding);
    }

    [Fact]
    public async Task Padding_out_of_range_is_refused()
    {
        using var init = new Image<Rgb24>(64, 64);
        using var mask = new Image<L8>(64, 64, new L8(255));
        var error = await Assert.ThrowsAsync<GenerationValidationException>(() => _harness.Engine.GenerateAsync(new GenerationRequest
        {
            Prompt = "x", InitImage = Png(init), Mask = Png(mask), InpaintFullRes = true, InpaintFullResPadding = 999,
        }, null, CancellationToken.None));
        Assert.Contains("Masked area padding must be between 0 and 256", error.Message);
    }
}
