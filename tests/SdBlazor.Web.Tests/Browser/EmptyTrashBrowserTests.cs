using Microsoft.Playwright;
using SdBlazor.Web.Gallery;
using SdBlazor.Web.Sharing;
using SdBlazor.Web.Tests.Gallery;
using SdBlazor.Web.Tests.Support;

namespace SdBlazor.Web.Tests.Browser;

/// <summary>Issue 33, defect 5: "Empty trash" asks first, and a member empties only their own trash.</summary>
public sealed class EmptyTrashBrowserTests
{
    [Fact]
    public async Task Empty_trash_asks_for_confirmation_and_cancel_keeps_the_images()
    {
        await using var browser = await BrowserApp.StartAsync();
        var store = browser.Service<GalleryStore>();
        var index = browser.Service<GalleryIndex>();
        using (var image = TestGallery.MakeImage())
        {
            var row = await store.SaveAsync(image, TestGallery.Parameters("a trashed teapot"));
            store.Trash([row.Id]);
        }
        var page = browser.Page;
        await browser.OpenAsync("/gallery", ".sd-gallery[data-interactive='true']");
        await page.GetByLabel("Trash").CheckAsync();
        await Assertions.Expect(page.Locator("img[alt^='a trashed teapot']")).ToHaveCountAsync(1);

        await page.GetByRole(AriaRole.Button, new() { Name = "Empty trash" }).ClickAsync();
        var dialog = page.GetByRole(AriaRole.Dialog);
        await Assertions.Expect(dialog).ToContainTextAsync("cannot be undone");
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Cancel" }).ClickAsync();
        await Assertions.Expect(dialog).ToHaveCountAsync(0);
        Assert.Single(index.Query(new GalleryQuery { Trash = true }).Items);

        await page.GetByRole(AriaRole.Button, new() { Name = "Empty trash" }).ClickAsync();
        await page.GetByRole(AriaRole.Dialog).GetByRole(AriaRole.Button, new() { Name = "Delete for good" }).ClickAsync();
        await Assertions.Expect(page.Locator("img[alt^='a trashed teapot']")).ToHaveCountAsync(0);
        Assert.Empty(index.Query(new GalleryQuery { Trash = true }).Items);
        browser.AssertNoProblems();
    }

    [Fact]
    public async Task A_member_empties_only_their_own_trash()
    {
        using var g = new TestGallery();
        using var picture = TestGallery.MakeImage();
        var owners = await g.Store.SaveAsync(picture, TestGallery.Parameters("owner's"));
        var members = await g.Store.SaveAsync(picture, TestGallery.Parameters("member's"), account: "alice");
        g.Store.Trash([owners.Id, members.Id]);

        Assert.Equal(1, g.Store.EmptyTrash(scope: AccountScope.Member("alice")));
        Assert.Null(g.Index.Get(members.Id));
        Assert.NotNull(g.Index.Get(owners.Id));
    }
}
