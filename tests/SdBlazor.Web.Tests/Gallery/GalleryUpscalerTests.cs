using Microsoft.Extensions.DependencyInjection;
using SdBlazor.Web.Gallery;
using SdBlazor.Web.Tests.Support;

namespace SdBlazor.Web.Tests.Gallery;

/// <summary>The gallery's Upscale refuses what it cannot do with a message for the user, before any work.</summary>
public sealed class GalleryUpscalerTests
{
    [Fact]
    public async Task A_bad_factor_an_unknown_upscaler_or_a_result_too_large_is_refused_with_the_reason_and_nothing_is_added()
    {
        await using var app = new AppFactory();
        var store = app.Services.GetRequiredService<GalleryStore>();
        var upscaler = app.Services.GetRequiredService<GalleryUpscaler>();
        GalleryImage small, large;
        using (var image = TestGallery.MakeImage(64, 48))
            small = await store.SaveAsync(image, TestGallery.Parameters("a small image"));
        using (var image = TestGallery.MakeImage(1100, 1100))
            large = await store.SaveAsync(image, TestGallery.Parameters("a large image"));

        var unknown = await Assert.ThrowsAsync<GalleryInputException>(() => upscaler.UpscaleAsync(small, "../../etc/passwd", 2, null));
        Assert.Contains("Upscaler '../../etc/passwd' not found; available: Lanczos", unknown.Message);
        foreach (var factor in new[] { double.NaN, 0.5, 9 })
        {
            var bad = await Assert.ThrowsAsync<GalleryInputException>(() => upscaler.UpscaleAsync(small, "Lanczos", factor, null));
            Assert.Contains("The factor must be between 1 and 8", bad.Message);
        }
        var tooLarge = await Assert.ThrowsAsync<GalleryInputException>(() => upscaler.UpscaleAsync(large, "Lanczos", 8, null));
        Assert.Contains("would be 8800×8800", tooLarge.Message);
        Assert.Equal(2, app.Services.GetRequiredService<GalleryIndex>().Query(new GalleryQuery()).Items.Count);
    }
}
