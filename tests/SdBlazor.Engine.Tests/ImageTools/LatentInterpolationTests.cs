using SdBlazor.Engine.Pipelines;
using static SdBlazor.Engine.Tests.ImageTools.ImageToolsGoldens;

namespace SdBlazor.Engine.Tests.ImageTools;

/// <summary>The "Latent" hires upscalers against <c>torch.nn.functional.interpolate</c>.</summary>
public class LatentInterpolationTests
{
    public static TheoryData<int> Cases() => [0, 1, 2, 3, 4, 5, 6, 7];

    [Theory]
    [MemberData(nameof(Cases))]
    public void Matches_torch_interpolate(int index)
    {
        var golden = Get("interpolate")[index];
        var mode = golden.GetProperty("mode").GetString() switch
        {
            "bilinear" => LatentInterpolation.Mode.Bilinear,
            "bicubic" => LatentInterpolation.Mode.Bicubic,
            "nearest" => LatentInterpolation.Mode.Nearest,
            _ => LatentInterpolation.Mode.NearestExact,
        };
        var size = golden.GetProperty("size").EnumerateArray().Select(d => d.GetInt32()).ToArray();
        var source = Floats(Get("latent").GetProperty("values"));

        var result = LatentInterpolation.Resize(source, 4, 5, 7, size[0], size[1], mode);

        AssertClose(Floats(golden.GetProperty("values")), result, 1e-5f, $"{mode} to {size[0]}x{size[1]}");
    }

    [Theory]
    [InlineData("Latent", LatentInterpolation.Mode.Bilinear)]
    [InlineData("Latent (antialiased)", LatentInterpolation.Mode.Bilinear)]
    [InlineData("Latent (bicubic)", LatentInterpolation.Mode.Bicubic)]
    [InlineData("Latent (bicubic antialiased)", LatentInterpolation.Mode.Bicubic)]
    [InlineData("Latent (nearest)", LatentInterpolation.Mode.Nearest)]
    [InlineData("Latent (nearest-exact)", LatentInterpolation.Mode.NearestExact)]
    public void A1111_names_map_to_torch_modes(string name, LatentInterpolation.Mode mode) =>
        Assert.Equal(mode, LatentInterpolation.ForUpscaler(name));
}
