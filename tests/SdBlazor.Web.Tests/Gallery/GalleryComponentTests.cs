using SdBlazor.Web.Sharing;
using Bunit;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Forms;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using MudBlazor.Services;
using SdBlazor.Web.Components.Gallery;
using SdBlazor.Web.Gallery;
using SdBlazor.Web.Sharing.Shares;
using Xunit;

namespace SdBlazor.Web.Tests.Gallery;

/// <summary>bUnit tests of the gallery components against a real gallery (LiteDB file and PNGs).</summary>
public sealed class GalleryComponentTests : IAsyncDisposable
{
    private readonly TestGallery _g = new();
    private readonly BunitContext _ctx = new();
    private readonly SelectionDrafts _drafts = new(TimeProvider.System);

    public GalleryComponentTests()
    {
        _ctx.JSInterop.Mode = JSRuntimeMode.Loose;
        _ctx.Services.AddMudServices();
        _ctx.Services.AddSingleton(_g.Store);
        _ctx.Services.AddSingleton(_g.Index);
        _ctx.Services.AddSingleton(_g.Options);
        _ctx.Services.AddSingleton(new UploadValidator(_g.Options));
        _ctx.Services.AddSingleton(_drafts);
        // After the services: setting renderer info builds the service provider.
        _ctx.SetRendererInfo(new RendererInfo("Server", true));
        _ctx.Render<MudPopoverProvider>();
    }

    public async ValueTask DisposeAsync()
    {
        await _ctx.DisposeAsync();
        _g.Dispose();
    }

    [Fact]
    public async Task Grid_alt_texts_start_with_the_prompt_and_the_search_field_labelled_Search_filters()
    {
        await _g.SaveAsync("a castle on a hill");
        await _g.SaveAsync("a river in a forest");
        await _g.SaveAsync("neon city at night");

        var cut = _ctx.Render<GalleryBrowser>(p => p.Add(x => x.Scope, AccountScope.Everything));

        var alts = cut.FindAll("img").Select(i => i.GetAttribute("alt")).ToList();
        Assert.Equal(3, alts.Count);
        Assert.StartsWith("neon city at night", alts[0]);
        Assert.StartsWith("a castle on a hill", alts[2]);

        // The search field is found through its label, as a screen reader (or Playwright's GetByLabel) would.
        var label = cut.FindAll("label").Single(l => l.TextContent.Trim() == "Search");
        var input = cut.Find($"#{label.GetAttribute("for")}");
        await input.InputAsync(new ChangeEventArgs { Value = "forest" });

        cut.WaitForAssertion(() =>
        {
            var shown = cut.FindAll(".sd-gallery-grid img").Select(i => i.GetAttribute("alt")).ToList();
            Assert.Single(shown);
            Assert.StartsWith("a river in a forest", shown[0]);
        }, TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task Selecting_images_and_deleting_moves_them_to_the_trash()
    {
        var keep = await _g.SaveAsync("keep this one");
        var a = await _g.SaveAsync("delete first");
        var b = await _g.SaveAsync("delete second");
        var cut = _ctx.Render<GalleryBrowser>(p => p.Add(x => x.Scope, AccountScope.Everything));

        cut.Find("input[aria-label='Select delete first']").Change(true);
        cut.Find("input[aria-label='Select delete second']").Change(true);
        Assert.Contains("2 selected", cut.Markup);
        var zipIds = cut.Find("form[action='/api/gallery/zip'] input[name=ids]").GetAttribute("value")!.Split(',');
        Assert.Equal(new[] { a.Key, b.Key }.Order(), zipIds.Order());
        cut.FindAll("button").Single(x => x.TextContent.Trim() == "Delete").Click();

        cut.WaitForAssertion(() => Assert.Single(cut.FindAll(".sd-gallery-grid img")));
        Assert.NotNull(_g.Index.Get(a.Id)!.TrashedUtc);
        Assert.NotNull(_g.Index.Get(b.Id)!.TrashedUtc);
        Assert.Null(_g.Index.Get(keep.Id)!.TrashedUtc);
    }

    [Fact]
    public async Task Sharing_a_selection_hands_the_ids_over_on_the_server_not_in_the_url()
    {
        var a = await _g.SaveAsync("share first");
        var b = await _g.SaveAsync("share second");
        var cut = _ctx.Render<GalleryBrowser>(p => p.Add(x => x.Scope, AccountScope.Everything).Add(x => x.Account, "boss"));
        cut.Find("input[aria-label='Select share first']").Change(true);
        cut.Find("input[aria-label='Select share second']").Change(true);
        cut.FindAll("button").Single(x => x.TextContent.Trim() == "Share").Click();

        var uri = new Uri(_ctx.Services.GetRequiredService<NavigationManager>().Uri);
        Assert.Equal("/shares", uri.AbsolutePath);
        Assert.DoesNotContain(a.Key, uri.Query);
        var key = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(uri.Query)["selection"].ToString();
        Assert.Equal(new[] { a.Key, b.Key }.Order(), _drafts.Take(key, "boss").Order());
        Assert.Empty(_drafts.Take(key, "someone-else"));
    }

    [Fact]
    public async Task Detail_shows_parameters_and_its_buttons_navigate_to_the_generate_page()
    {
        var parent = await _g.SaveAsync("the parent image");
        using var image = TestGallery.MakeImage();
        var child = await _g.Store.SaveAsync(image, TestGallery.Parameters("the child image", seed: 987654321) with { ParentId = parent.Key, Strength = 0.6 });
        var navigation = _ctx.Services.GetRequiredService<NavigationManager>();

        var cut = _ctx.Render<ImageDetail>(p => p.Add(x => x.Scope, AccountScope.Everything).Add(x => x.Image, _g.Index.Get(child.Id)!));

        Assert.Equal("the child image", cut.Find("[data-testid=detail-prompt]").TextContent);
        Assert.Contains("987654321", cut.Markup);
        Assert.Contains("Made from: the parent image", cut.Markup);

        cut.FindAll("button").Single(b => b.TextContent.Trim() == "Use these settings").Click();
        Assert.EndsWith($"/?fromImage={child.Key}", navigation.Uri);
        cut.FindAll("button").Single(b => b.TextContent.Trim() == "img2img from this").Click();
        Assert.EndsWith($"/?img2img={child.Key}", navigation.Uri);

        cut.Find("button[aria-label='Add to favourites']").Click();
        Assert.True(_g.Index.Get(child.Id)!.Favourite);

        var parentDetail = _ctx.Render<ImageDetail>(p => p.Add(x => x.Scope, AccountScope.Everything).Add(x => x.Image, _g.Index.Get(parent.Id)!));
        Assert.Contains("the child image", parentDetail.Find("img[alt^='the child image']").GetAttribute("alt"));
    }

    [Fact]
    public async Task Import_shows_found_settings_and_adds_to_the_gallery_and_bad_files_get_an_error()
    {
        GalleryImage? added = null;
        var cut = _ctx.Render<GalleryImport>(p => p.Add(x => x.Scope, AccountScope.Everything).Add(x => x.OnAdded, row => added = row));
        var png = TestGallery.ForeignPng(("parameters", "an imported harbor\nSteps: 12, Sampler: Euler, CFG scale: 5, Seed: 31337, Size: 40x30"));

        cut.FindComponent<InputFile>().UploadFiles(InputFileContent.CreateFromBinary(png, "harbor.png"));

        cut.WaitForAssertion(() => Assert.Contains("settings from Automatic1111", cut.Markup));
        Assert.Contains("31337", cut.Markup);
        cut.FindAll("button").Single(b => b.TextContent.Trim() == "Add to gallery").Click();
        cut.WaitForAssertion(() => Assert.NotNull(added));
        Assert.Equal("an imported harbor", _g.Index.Get(added!.Id)!.Prompt);

        cut.FindComponent<InputFile>().UploadFiles(InputFileContent.CreateFromText("not an image", "evil.png"));
        cut.WaitForAssertion(() => Assert.Contains("Only PNG, JPEG and WebP", cut.Find("[role=alert]").TextContent));
        Assert.Equal(1, _g.Index.Count());
    }
}
