using System.Security.Claims;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace SdBlazor.Web.Tests.Support;

/// <summary>
/// A real antiforgery token pair from the app's own <see cref="IAntiforgery"/>, for form POSTs whose page is an
/// interactive component (a test cannot scrape it from static HTML). Tokens are bound to the user, so pass the same
/// principal the request will authenticate as.
/// </summary>
public static class AntiforgeryTokens
{
    public static (string Cookie, string FieldName, string RequestToken) For(IServiceProvider services, ClaimsPrincipal user)
    {
        var http = new DefaultHttpContext { RequestServices = services, User = user };
        var tokens = services.GetRequiredService<IAntiforgery>().GetAndStoreTokens(http);
        var cookieName = services.GetRequiredService<IOptions<AntiforgeryOptions>>().Value.Cookie.Name!;
        return ($"{cookieName}={tokens.CookieToken}", tokens.FormFieldName, tokens.RequestToken!);
    }
}
