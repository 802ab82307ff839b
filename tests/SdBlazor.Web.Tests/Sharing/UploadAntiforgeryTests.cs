using System.Net;
using System.Net.Http.Headers;
using System.Text;
using SdBlazor.Web.Sharing;

namespace SdBlazor.Web.Tests.Sharing;

/// <summary>
/// The multipart upload API from another device: a browser signed in with the login cookie needs an antiforgery
/// token (header or form field); a script with HTTP Basic needs none.
/// </summary>
public sealed class UploadAntiforgeryTests
{
    [Theory]
    [InlineData("/api/gallery/import")]
    [InlineData("/api/gallery/inspect")]
    public async Task A_cookie_login_needs_the_token_and_HTTP_Basic_does_not(string path)
    {
        await using var app = new SharingFactory();
        var browser = await app.ClientAsAsync(SharingRole.Member, "alice");
        var success = path.EndsWith("import", StringComparison.Ordinal) ? HttpStatusCode.Created : HttpStatusCode.OK;

        using (var refused = await browser.PostAsync(path, OwnershipTests.UploadOf("no token")))
        {
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
            Assert.Contains("must send an antiforgery token", await refused.Content.ReadAsStringAsync());
        }
        using (var forged = OwnershipTests.UploadOf("wrong token"))
        {
            forged.Add(new StringContent("CfDJ8-not-a-token"), "__RequestVerificationToken");
            Assert.Equal(HttpStatusCode.BadRequest, (await browser.PostAsync(path, forged)).StatusCode);
        }
        using (var header = await app.PostAsBrowserAsync(browser, path, OwnershipTests.UploadOf("token in the header")))
            Assert.Equal(success, header.StatusCode);
        using (var field = await app.PostAsBrowserAsync(browser, path, OwnershipTests.UploadOf("token in the form"), tokenInForm: true))
            Assert.Equal(success, field.StatusCode);

        using var script = app.CreateClient();
        script.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(Encoding.UTF8.GetBytes($"alice:{SharingFactory.Password}")));
        using var scripted = await script.PostAsync(path, OwnershipTests.UploadOf("a script"));
        Assert.Equal(success, scripted.StatusCode);
    }
}
