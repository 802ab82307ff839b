using SdBlazor.Web.Sharing;
using SdBlazor.Web.Gallery;
using Xunit;

namespace SdBlazor.Web.Tests.Gallery;

public class GalleryPrefillTests
{
    [Fact]
    public async Task Use_these_settings_gives_the_images_request()
    {
        using var g = new TestGallery();
        using var image = TestGallery.MakeImage();
        var row = await g.Store.SaveAsync(image, TestGallery.Parameters("a lake, at dawn: calm", seed: 123456789012) with { CfgScale = 6.5, Steps = 33 });

        var prefill = await g.Prefill.ResolveAsync(new Uri("http://localhost" + GalleryPrefill.UseSettingsLink(row.Key)), AccountScope.Everything);

        var r = prefill!.Request;
        Assert.Equal(("a lake, at dawn: calm", "blurry", 123456789012L, 33, 6.5, "Euler a", "Automatic", 64, 48, "sdblazor-mini"),
            (r.Prompt, r.NegativePrompt, r.Seed, r.Steps, r.CfgScale, r.Sampler, r.ScheduleType, r.Width, r.Height, r.Model));
        Assert.Null(r.InitImage);
        Assert.Null(prefill.ParentImageId);
    }

    [Fact]
    public async Task Img2img_from_this_adds_the_png_as_init_image_and_names_the_parent()
    {
        using var g = new TestGallery();
        var row = await g.SaveAsync("source");

        var prefill = await g.Prefill.ResolveAsync(new Uri("http://localhost" + GalleryPrefill.Img2ImgLink(row.Key)), AccountScope.Everything);

        Assert.Equal(await File.ReadAllBytesAsync(g.Files.FullPath(row.FileName)), prefill!.Request.InitImage);
        Assert.Equal(row.Key, prefill.ParentImageId);
        Assert.Equal("source", prefill.Request.Prompt);
    }

    [Fact]
    public async Task Settings_links_round_trip_and_bad_links_give_nothing()
    {
        using var g = new TestGallery();
        var link = GalleryPrefill.SettingsLink(TestGallery.Parameters("imported, \"quoted\" ünïcode 猫", seed: 5));

        var prefill = await g.Prefill.ResolveAsync(new Uri("http://localhost" + link), AccountScope.Everything);

        Assert.Equal(("imported, \"quoted\" ünïcode 猫", 5L), (prefill!.Request.Prompt, prefill.Request.Seed));
        Assert.Null(await g.Prefill.ResolveAsync(new Uri("http://localhost/?settings=!!!"), AccountScope.Everything));
        Assert.Null(await g.Prefill.ResolveAsync(new Uri("http://localhost/?fromImage=0123456789abcdef01234567"), AccountScope.Everything));
        Assert.Null(await g.Prefill.ResolveAsync(new Uri("http://localhost/?fromImage=../../etc/passwd"), AccountScope.Everything));
        Assert.Null(await g.Prefill.ResolveAsync(new Uri("http://localhost/"), AccountScope.Everything));
    }
}
