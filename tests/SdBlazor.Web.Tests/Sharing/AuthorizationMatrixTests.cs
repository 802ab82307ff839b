using System.Net;
using System.Reflection;
using System.Text;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using SdBlazor.Web.Hubs;
using SdBlazor.Web.Sharing;
using Xunit.Abstractions;

namespace SdBlazor.Web.Tests.Sharing;

/// <summary>
/// Every endpoint the app routes (from its own EndpointDataSource), every page and every hub method, checked
/// against one table of who may use it, and then exercised over HTTP as an anonymous LAN client (also one holding
/// a share link), a viewer, a member and the owner. A new endpoint fails this test until it states a policy and is
/// added to <see cref="Expected"/>.
/// </summary>
public sealed class AuthorizationMatrixTests(ITestOutputHelper output)
{
    public enum Access { Anonymous, Viewer, Member, Owner }

    // "METHOD pattern" → the least role that may use it. Anonymous = public (login, share links, static files).
    private static readonly Dictionary<string, Access> Expected = new()
    {
        // Gallery
        ["GET /api/images/{id}/"] = Access.Member,
        ["GET /api/images/{id}/thumb"] = Access.Member,
        ["GET /api/images/{id}/metadata"] = Access.Member,
        ["DELETE /api/images/{id}/"] = Access.Owner,
        ["POST /api/images/{id}/restore"] = Access.Owner,
        ["GET /api/gallery/"] = Access.Member,
        ["POST /api/gallery/import"] = Access.Member,
        ["POST /api/gallery/inspect"] = Access.Member,
        ["GET /api/gallery/zip"] = Access.Member,
        ["POST /api/gallery/zip"] = Access.Member,
        ["POST /api/gallery/rebuild"] = Access.Owner,
        ["POST /api/gallery/trash/empty"] = Access.Owner,
        // Generation
        ["GET /api/jobs/{id}/preview"] = Access.Member,
        ["GET /api/jobs/"] = Access.Member,
        ["POST /api/jobs/"] = Access.Member,
        ["GET /api/jobs/{id}"] = Access.Member,
        ["DELETE /api/jobs/{id}"] = Access.Member,
        ["* /hubs/generation/negotiate"] = Access.Member,
        ["* /hubs/generation"] = Access.Member,
        ["* /hubs/models/negotiate"] = Access.Member,
        ["* /hubs/models"] = Access.Member,
        // A1111 API
        ["POST /sdapi/v1/txt2img"] = Access.Member,
        ["POST /sdapi/v1/img2img"] = Access.Member,
        ["GET /sdapi/v1/progress"] = Access.Member,
        ["POST /sdapi/v1/interrupt"] = Access.Member,
        ["POST /sdapi/v1/skip"] = Access.Member,
        ["GET /sdapi/v1/sd-models"] = Access.Member,
        ["POST /sdapi/v1/refresh-checkpoints"] = Access.Owner,
        ["POST /sdapi/v1/unload-checkpoint"] = Access.Owner,
        ["POST /sdapi/v1/reload-checkpoint"] = Access.Owner,
        ["GET /sdapi/v1/samplers"] = Access.Member,
        ["GET /sdapi/v1/schedulers"] = Access.Member,
        ["GET /sdapi/v1/options"] = Access.Member,
        ["POST /sdapi/v1/options"] = Access.Owner,
        ["POST /sdapi/v1/png-info"] = Access.Member,
        ["GET /sdapi/v1/loras"] = Access.Member,
        ["GET /api/extra-networks/preview"] = Access.Member,
        ["POST /sdapi/v1/refresh-loras"] = Access.Owner,
        ["GET /sdapi/v1/embeddings"] = Access.Member,
        ["GET /sdapi/v1/prompt-styles"] = Access.Member,
        ["GET /sdapi/v1/sd-vae"] = Access.Member,
        ["GET /sdapi/v1/upscalers"] = Access.Member,
        ["GET /sdapi/v1/latent-upscale-modes"] = Access.Member,
        ["GET /sdapi/v1/memory"] = Access.Member,
        ["GET /sdapi/v1/cmd-flags"] = Access.Member,
        ["GET /sdapi/v1/scripts"] = Access.Member,
        ["GET /sdapi/v1/script-info"] = Access.Member,
        ["GET /sdapi/v1/extensions"] = Access.Member,
        ["GET /sdapi/v1/face-restorers"] = Access.Member,
        ["GET /sdapi/v1/hypernetworks"] = Access.Member,
        ["POST /sdapi/v1/extra-single-image"] = Access.Member,
        ["POST /sdapi/v1/extra-batch-images"] = Access.Member,
        ["GET /openapi/v1.json"] = Access.Member,
        ["GET /scalar/{documentName?}"] = Access.Member,
        ["GET /api-docs"] = Access.Member,
        ["GET /scalar/scalar.js"] = Access.Anonymous,
        ["GET /scalar/scalar.aspnetcore.js"] = Access.Anonymous,
        ["GET /scalar/favicon.svg"] = Access.Anonymous,
        // Model manager
        ["GET /api/models/"] = Access.Member,
        ["DELETE /api/models/{name}"] = Access.Owner,
        ["POST /api/models/{name}/default"] = Access.Owner,
        ["GET /api/models/loaded"] = Access.Member,
        ["POST /api/models/{name}/load"] = Access.Owner,
        ["POST /api/models/{name}/unload"] = Access.Owner,
        ["POST /api/models/import/"] = Access.Owner,
        ["GET /api/models/import/"] = Access.Member,
        ["GET /api/models/import/{id}"] = Access.Member,
        ["DELETE /api/models/import/{id}"] = Access.Owner,
        ["POST /api/models/import/{id}/retry"] = Access.Owner,
        // Sharing
        ["GET /s/{token}/images/{id}"] = Access.Anonymous,
        ["GET /s/{token}/images/{id}/thumb"] = Access.Anonymous,
        ["GET /s/{token}/live/state"] = Access.Anonymous,
        ["GET /s/{token}/live/frame"] = Access.Anonymous,
        ["GET /api/shares/"] = Access.Member,
        ["POST /api/shares/"] = Access.Member,
        ["POST /api/shares/{id}/revoke"] = Access.Member,
        ["DELETE /api/shares/{id}"] = Access.Member,
        ["POST /logout"] = Access.Viewer,
        // Pages (GET renders, POST submits their forms)
        ["GET,POST /"] = Access.Member,
        ["GET,POST /gallery"] = Access.Member,
        ["GET,POST /models"] = Access.Member,
        ["GET,POST /shares"] = Access.Member,
        ["GET,POST /sharing"] = Access.Owner,
        ["GET,POST /account"] = Access.Viewer,
        ["GET,POST /Error"] = Access.Anonymous,
        ["GET,POST /login"] = Access.Anonymous,
        ["GET,POST /setup"] = Access.Anonymous,
        ["GET,POST /invite/{Token}"] = Access.Anonymous,
        ["GET,POST /s/{Token}"] = Access.Anonymous,
    };

    // Framework endpoints that cannot carry metadata of ours: the Blazor circuit (its pages authorize themselves, and
    // visitors' pages are static), and framework redirects/file fallback. They stay behind the fallback policy
    // (any signed-in account); listed by name so that nothing else may rely on it.
    private static readonly HashSet<string> FrameworkOnFallback =
    [
        "* /_blazor", "* /_blazor/negotiate", "* /_blazor/disconnect/", "* /_blazor/initializers/",
        "GET /_framework/opaque-redirect", "GET,HEAD /{**path:file}",
    ];

    [Fact]
    public async Task Every_endpoint_states_a_policy_and_matches_the_table()
    {
        await using var app = new SharingFactory();
        var endpoints = AppEndpoints(app);
        var problems = new List<string>();
        foreach (var (key, endpoint) in endpoints)
        {
            var actual = LevelOf(endpoint);
            if (FrameworkOnFallback.Contains(key))
            {
                if (actual is not null) problems.Add($"{key}: framework endpoint now states {actual}; move it to the table");
                continue;
            }
            if (actual is null) problems.Add($"{key}: states no policy (only the fallback would guard it)");
            else if (!Expected.TryGetValue(key, out var expected)) problems.Add($"{key}: new endpoint ({actual}); add it to the table");
            else if (actual != expected) problems.Add($"{key}: is {actual}, the table says {expected}");
        }
        foreach (var missing in Expected.Keys.Except(endpoints.Select(e => e.Key))) problems.Add($"{missing}: in the table but not routed");
        Assert.True(problems.Count == 0, string.Join('\n', problems));
    }

    [Fact]
    public void Every_page_states_a_policy()
    {
        var pages = typeof(Program).Assembly.GetTypes().Where(t => typeof(IComponent).IsAssignableFrom(t) && t.GetCustomAttributes<RouteAttribute>().Any()).ToList();
        Assert.True(pages.Count >= 10, $"found only {pages.Count} pages");
        foreach (var page in pages)
        {
            var anonymous = page.GetCustomAttributes<AllowAnonymousAttribute>().Any();
            var policies = page.GetCustomAttributes<AuthorizeAttribute>().Select(a => a.Policy).ToList();
            Assert.True(anonymous ^ policies.Count > 0, $"{page.Name} must have exactly one of [AllowAnonymous] or [Authorize(Policy = ...)]");
            Assert.All(policies, p => Assert.StartsWith("sharing:", p));
        }
    }

    [Fact]
    public void Every_hub_method_states_the_member_policy()
    {
        var methods = typeof(GenerationHub).GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly);
        Assert.NotEmpty(methods);
        Assert.Empty(typeof(GenerationHub).GetCustomAttributes<AllowAnonymousAttribute>());
        foreach (var method in methods)
        {
            Assert.Empty(method.GetCustomAttributes<AllowAnonymousAttribute>());
            var policy = method.GetCustomAttributes<AuthorizeAttribute>().Select(a => a.Policy).SingleOrDefault();
            Assert.True(policy == SharingPolicies.Member, $"GenerationHub.{method.Name} must state [Authorize(Policy = SharingPolicies.Member)]");
        }
    }

    [Fact]
    public async Task Each_role_is_refused_exactly_what_is_above_it()
    {
        await using var app = new SharingFactory();
        app.EnsureOwner();
        var shared = await app.AddImagesAsync("shared picture");
        var (_, linkToken) = app.Services.GetRequiredService<SdBlazor.Web.Sharing.Shares.ShareStore>()
            .Create(new() { Kind = SdBlazor.Web.Sharing.Shares.ShareKind.Selection, ImageIds = [shared[0].Key] }, SharingFactory.OwnerName);

        var anonymous = app.NewClient();
        var linkHolder = app.NewClient();
        Assert.Equal(HttpStatusCode.OK, (await linkHolder.GetAsync($"/s/{linkToken}")).StatusCode);
        var clients = new List<(string Name, Access Level, HttpClient Client)>
        {
            ("anonymous", Access.Anonymous, anonymous),
            ("share-link holder", Access.Anonymous, linkHolder),
            ("viewer", Access.Viewer, await app.ClientAsAsync(SharingRole.Viewer)),
            ("member", Access.Member, await app.ClientAsAsync(SharingRole.Member)),
            ("owner", Access.Owner, await app.ClientAsAsync(SharingRole.Owner)),
        };

        var problems = new List<string>();
        var checkedCount = 0;
        // Logging out last: it ends each client's login.
        foreach (var (key, endpoint) in AppEndpoints(app).OrderBy(p => p.Key == "POST /logout"))
        {
            if (!Expected.TryGetValue(key, out var required)) continue;
            foreach (var method in MethodsOf(key))
            {
                var url = Url(endpoint);
                foreach (var (name, level, client) in clients)
                {
                    using var response = await client.SendAsync(Request(method, url));
                    var refused = IsRefused(response);
                    var shouldRefuse = level < required;
                    checkedCount++;
                    if (refused != shouldRefuse)
                        problems.Add($"{method} {url} as {name}: {(int)response.StatusCode} {response.Headers.Location} (expected {(shouldRefuse ? "refusal" : "access")})");
                }
            }
        }
        output.WriteLine($"{checkedCount} requests checked");
        Assert.True(problems.Count == 0, string.Join('\n', problems));
    }

    private static bool IsRefused(HttpResponseMessage response) =>
        response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden
        || response.StatusCode == HttpStatusCode.Redirect && response.Headers.Location?.OriginalString.Contains("/login?ReturnUrl=", StringComparison.OrdinalIgnoreCase) == true;

    private static HttpRequestMessage Request(string method, string url)
    {
        var request = new HttpRequestMessage(new HttpMethod(method), url);
        // Bodies that no handler accepts: authorization runs first, so refusals show; allowed calls fail validation
        // (400/415/422) instead of generating or importing anything.
        if (method is "POST" or "PUT")
            request.Content = url.EndsWith("/import", StringComparison.Ordinal) || url.EndsWith("/inspect", StringComparison.Ordinal) || url.EndsWith("/zip", StringComparison.Ordinal)
                // Form endpoints: another content type would be refused (415) by routing before authorization runs.
                ? new MultipartFormDataContent { { new StringContent("not an image"), "other", "x.txt" } }
                : new StringContent("not json", Encoding.UTF8, "application/json");
        return request;
    }

    private static IEnumerable<string> MethodsOf(string key)
    {
        var methods = key[..key.IndexOf(' ')];
        // Page POSTs need a form; their GET shows the policy. The hub's WebSocket endpoint is checked by the hub tests.
        if (methods == "*") return [];
        return methods.StartsWith("GET,", StringComparison.Ordinal) ? ["GET"] : methods.Split(',');
    }

    private static string Url(RouteEndpoint endpoint)
    {
        var url = new StringBuilder();
        foreach (var segment in endpoint.RoutePattern.PathSegments)
        {
            url.Append('/');
            foreach (var part in segment.Parts)
            {
                url.Append(part switch
                {
                    Microsoft.AspNetCore.Routing.Patterns.RoutePatternLiteralPart literal => literal.Content,
                    Microsoft.AspNetCore.Routing.Patterns.RoutePatternParameterPart { Name: "id" } p when p.ParameterPolicies.Count > 0 => "0123456789abcdef0123456789abcdef-0",
                    Microsoft.AspNetCore.Routing.Patterns.RoutePatternParameterPart { Name: "id" } => "000000000000000000000000",
                    Microsoft.AspNetCore.Routing.Patterns.RoutePatternParameterPart { Name: "token" or "Token" } => "AAAAAAAAAAAAAAAAAAAAAA",
                    Microsoft.AspNetCore.Routing.Patterns.RoutePatternParameterPart { IsOptional: true } => "",
                    Microsoft.AspNetCore.Routing.Patterns.RoutePatternParameterPart p => p.Name,
                    _ => "",
                });
            }
        }
        var text = url.ToString().TrimEnd('/');
        return text.Length == 0 ? "/" : text;
    }

    /// <summary>The app's endpoints, keyed "METHODS pattern" (static files left out: they are AllowAnonymous by convention, checked below).</summary>
    internal static List<KeyValuePair<string, RouteEndpoint>> AppEndpoints(SharingFactory app)
    {
        _ = app.Server;
        var all = app.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>().ToList();
        var statics = all.Where(e => e.Metadata.Any(m => m.GetType().Name == "StaticAssetDescriptor")).ToList();
        Assert.NotEmpty(statics);
        Assert.All(statics, e => Assert.NotNull(e.Metadata.GetMetadata<IAllowAnonymous>()));
        return all.Except(statics)
            .Where(e => !e.RoutePattern.RawText!.StartsWith("/_blazor", StringComparison.Ordinal) || LevelOf(e) is not null || true)
            .Select(e => KeyValuePair.Create(Key(e), e))
            .DistinctBy(p => p.Key)
            .ToList();
    }

    private static string Key(RouteEndpoint e)
    {
        var methods = e.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods;
        var pattern = e.RoutePattern.RawText!;
        if (!pattern.StartsWith('/')) pattern = "/" + pattern;
        return $"{(methods is { Count: > 0 } ? string.Join(',', methods.Order()) : "*")} {pattern}";
    }

    internal static Access? LevelOf(Endpoint endpoint)
    {
        if (endpoint.Metadata.GetMetadata<IAllowAnonymous>() is not null) return Access.Anonymous;
        var policies = endpoint.Metadata.GetOrderedMetadata<IAuthorizeData>().Select(a => a.Policy).ToList();
        if (policies.Count == 0 || policies.Any(p => p is null)) return null;
        return policies.Max(p => p switch
        {
            SharingPolicies.Owner => Access.Owner,
            SharingPolicies.Member => Access.Member,
            SharingPolicies.Viewer => Access.Viewer,
            _ => throw new Xunit.Sdk.XunitException($"{endpoint.DisplayName}: unknown policy {p}"),
        });
    }
}
