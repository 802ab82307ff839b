using System.Net;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;
using Microsoft.Extensions.DependencyInjection;
using SdBlazor.Web.Sharing.Shares;
using Xunit.Abstractions;

namespace SdBlazor.Web.Tests.Sharing;

/// <summary>
/// Every route that takes an id, token or name gets path traversal and injection attempts, as the owner (who may
/// use every route): each must be refused (400/404), never serve a file, never fail with 500.
/// </summary>
public sealed class PathTraversalTests(ITestOutputHelper output)
{
    public static readonly string[] Attacks =
    [
        "../", "..", "..\\", "../../appsettings.json", "..\\..\\appsettings.json", "..%2F..%2Fappsettings.json",
        "%2e%2e%2f", "%2e%2e%2fappsettings.json", "%252e%252e%252f", "%252e%252e%252fappsettings.json", "%2e%2e%5c",
        "%2Fetc%2Fpasswd", "%2F%2Fetc%2Fpasswd", "C:%5CWindows%5Cwin.ini", "C:", "%00", "a%00b", "000000000000000000000000%00.png",
        "../canary.png", "..%2Fcanary.png", "%2e%2e%2fcanary.txt", "..%5C..%5Ccanary.txt", "canary.png", "canary",
        "CON", "NUL", "COM1", "LPT1", "con.png", "aux", new string('a', 5000), "%C0%AE%C0%AE%2F", "....//", "~", "*", "%20",
    ];

    [Fact]
    public async Task Id_token_and_name_routes_refuse_traversal_and_injection()
    {
        await using var app = new SharingFactory();
        app.EnsureOwner();
        var images = await app.AddImagesAsync("a secret cat", "a shared dog");
        var (_, token) = app.Services.GetRequiredService<ShareStore>().Create(new() { Kind = ShareKind.Selection, ImageIds = [images[1].Key] }, SharingFactory.OwnerName);
        var owner = await app.ClientAsAsync(SdBlazor.Web.Sharing.SharingRole.Owner);
        // Canaries where a traversal would land: next to the data folder, in it, and in the gallery's image folder.
        const string Canary = "CANARY-5f1c9e";
        foreach (var folder in new[] { app.Root, app.DataPath, Directory.GetDirectories(app.DataPath).FirstOrDefault() ?? app.DataPath })
        {
            await File.WriteAllTextAsync(Path.Combine(folder, "canary.txt"), Canary);
            await File.WriteAllTextAsync(Path.Combine(folder, "canary.png"), Canary);
        }

        var routes = AuthorizationMatrixTests.AppEndpoints(app)
            .Where(p => p.Value.RoutePattern.Parameters.Count > 0 && !p.Key.StartsWith('*'))
            .ToList();
        Assert.True(routes.Count >= 15, $"only {routes.Count} routes with parameters");
        var checkedCount = 0;
        var problems = new List<string>();
        foreach (var (key, endpoint) in routes)
        {
            var method = key[..key.IndexOf(' ')].Split(',')[0];
            foreach (var parameter in endpoint.RoutePattern.Parameters)
            foreach (var attack in Attacks)
            {
                var url = Build(endpoint.RoutePattern, token, images[1].Key, parameter.Name, attack);
                using var request = new HttpRequestMessage(new HttpMethod(method), url);
                HttpResponseMessage response;
                try
                {
                    response = await owner.SendAsync(request);
                }
                catch (InvalidOperationException ex) when (ex.Message.Contains("null characters", StringComparison.Ordinal))
                {
                    // The test server refuses NUL in a path before sending (Kestrel answers 400): refused either way.
                    checkedCount++;
                    continue;
                }
                using var _ = response;
                checkedCount++;
                var body = await response.Content.ReadAsStringAsync();
                // Literal dot segments are resolved (by the client and by Kestrel) to another route before routing:
                // they may land on a page, which is fine as long as nothing leaks. Everything else must be refused.
                var resolvedElsewhere = attack.Contains("..", StringComparison.Ordinal) && !attack.Contains('%');
                // Scalar's page takes an OpenAPI document *name* it only echoes into its HTML (no file behind it):
                // it may answer 200, but must not leak anything.
                if (url.StartsWith("/scalar/", StringComparison.Ordinal)) resolvedElsewhere = true;
                var ok = body.Contains(Canary, StringComparison.Ordinal) ? false
                    : (int)response.StatusCode >= 500 ? false
                    : resolvedElsewhere || response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.BadRequest or HttpStatusCode.MethodNotAllowed;
                if (!ok)
                    problems.Add($"{method} {url[..Math.Min(url.Length, 120)]} → {(int)response.StatusCode}");
            }
        }
        output.WriteLine($"{checkedCount} attempts on {routes.Count} routes");
        Assert.True(problems.Count == 0, string.Join('\n', problems));
    }

    /// <summary>The route with one parameter replaced by the attack (raw, already URL-encoded) and the others valid.</summary>
    private static string Build(RoutePattern pattern, string token, string imageId, string attacked, string attack)
    {
        var parts = new List<string>();
        foreach (var segment in pattern.PathSegments)
        {
            var text = "";
            foreach (var part in segment.Parts)
            {
                text += part switch
                {
                    RoutePatternLiteralPart literal => literal.Content,
                    RoutePatternParameterPart p when string.Equals(p.Name, attacked, StringComparison.OrdinalIgnoreCase) => attack,
                    RoutePatternParameterPart { Name: "token" or "Token" } => token,
                    RoutePatternParameterPart { Name: "id" } => imageId,
                    RoutePatternParameterPart p => p.Name,
                    _ => "",
                };
            }
            parts.Add(text);
        }
        return "/" + string.Join('/', parts);
    }
}
