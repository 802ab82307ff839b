using System.Net;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using SdBlazor.Web.Gallery;
using SdBlazor.Web.Sharing;
using SdBlazor.Web.Tests.Api;
using SdBlazor.Web.Sharing.Accounts;
using SdBlazor.Web.Tests.Gallery;
using SdBlazor.Web.Tests.Support;

namespace SdBlazor.Web.Tests.Sharing;

/// <summary>
/// The whole app on a test server, seen from another device on the LAN (remote address 192.0.2.50) unless a
/// request names another address; its own data folder, and the default model on the CPU (the live link test generates).
/// </summary>
public sealed partial class SharingFactory : WebApplicationFactory<Program>
{
    public static readonly IPAddress LanClient = IPAddress.Parse("192.0.2.50");
    public const string OwnerName = "boss";
    public const string Password = "correct horse battery";

    private readonly Dictionary<string, string?> _settings;

    private readonly string _environment;

    public SharingFactory(Dictionary<string, string?>? settings = null, IPAddress? defaultRemote = null, string environment = "Production")
    {
        _environment = environment;
        Root = Directory.CreateTempSubdirectory("sdblazor-sharing-tests-").FullName;
        _settings = settings ?? [];
        DefaultRemote = defaultRemote ?? LanClient;
    }

    public string Root { get; }
    public IPAddress DefaultRemote { get; }

    /// <summary>Replacements applied after the app's own registrations (e.g. a slow engine for live previews).</summary>
    public Action<IServiceCollection>? TestServices { get; init; }
    public string DataPath => Path.Combine(Root, "data");

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment(_environment);
        // Outside Development the framework serves MudBlazor's and Blazor's files only from a publish folder.
        builder.UseStaticWebAssets();
        builder.UseSetting("Gallery:DataPath", DataPath);
        builder.UseSetting("Engine:ModelsPath", Path.GetDirectoryName(DefaultModel.Folder));
        builder.UseSetting("Engine:DefaultModel", DefaultModel.Name);
        builder.UseSetting("Engine:ExecutionProvider", "Cpu");
        builder.UseSetting("Gallery:ReconcileOnStartup", "false");
        builder.UseSetting("urls", AppFactory.FreeLoopbackPort);
        foreach (var (key, value) in _settings) builder.UseSetting(key, value);
        builder.ConfigureServices(s => s.AddSingleton<IStartupFilter>(new TestRemoteAddress(DefaultRemote)));
        if (TestServices is { } configure) builder.ConfigureTestServices(configure);
    }

    public AccountStore Accounts => Services.GetRequiredService<AccountStore>();

    public Account EnsureOwner() => Accounts.Find(OwnerName) ?? Accounts.CreateOwner(OwnerName, Password);

    public Account EnsureAccount(string name, SharingRole role)
    {
        if (role == SharingRole.Owner) return EnsureOwner();
        EnsureOwner();
        return Accounts.Find(name) ?? Accounts.RedeemInvite(Accounts.CreateInvite(role, TimeSpan.FromHours(1), OwnerName), name, Password);
    }

    /// <summary>A client with its own cookie jar that does not follow redirects (so challenges stay visible).</summary>
    public HttpClient NewClient() => CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });

    /// <summary>A client logged in through the real login form (antiforgery token and all) as a fresh account of this role.</summary>
    public Task<HttpClient> ClientAsAsync(SharingRole role) =>
        ClientAsAsync(role, role == SharingRole.Owner ? OwnerName : role.ToString().ToLowerInvariant());

    /// <summary>A client logged in as the account <paramref name="name"/> with this role (created when missing).</summary>
    public async Task<HttpClient> ClientAsAsync(SharingRole role, string name)
    {
        EnsureAccount(name, role);
        var client = NewClient();
        using var response = await LoginAsync(client, name, Password);
        Assert.True(response.StatusCode == HttpStatusCode.Redirect, $"login as {name} answered {(int)response.StatusCode}");
        var cookie = response.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith(SdBlazor.Web.Sharing.Auth.SharingAuthentication.CookieName + "=", StringComparison.Ordinal));
        _logins.AddOrUpdate(client, new Login(cookie[..cookie.IndexOf(';')], name));
        return client;
    }

    private sealed record Login(string Cookie, string Name);

    private readonly System.Runtime.CompilerServices.ConditionalWeakTable<HttpClient, Login> _logins = new();

    /// <summary>The login cookie ("name=value") of a client made by <see cref="ClientAsAsync"/>, for clients that keep no jar (SignalR).</summary>
    public string CookieOf(HttpClient client) => LoginOf(client).Cookie;

    private Login LoginOf(HttpClient client) => _logins.TryGetValue(client, out var login) ? login : throw new InvalidOperationException("not a logged-in client");

    /// <summary>
    /// A POST as the signed-in browser of <paramref name="client"/> sends it with a page's token: the login cookie,
    /// the antiforgery cookie, and the request token in a form field (<paramref name="tokenInForm"/>) or the header.
    /// </summary>
    public async Task<HttpResponseMessage> PostAsBrowserAsync(HttpClient client, string path, MultipartFormDataContent content, bool tokenInForm = false)
    {
        var login = LoginOf(client);
        var user = SdBlazor.Web.Sharing.Auth.SharingClaims.For(Accounts.Find(login.Name)!, SdBlazor.Web.Sharing.Auth.SharingAuthentication.CookieScheme);
        var (cookie, field, token) = AntiforgeryTokens.For(Services, user);
        if (tokenInForm) content.Add(new StringContent(token), field);
        using var bare = CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = false });
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = content };
        request.Headers.Add("Cookie", $"{login.Cookie}; {cookie}");
        if (!tokenInForm) request.Headers.Add(SdBlazor.Web.Sharing.Protection.CookieAntiforgery.HeaderName, token);
        return await bare.SendAsync(request);
    }

    public static async Task<HttpResponseMessage> LoginAsync(HttpClient client, string user, string password)
    {
        var form = await client.GetStringAsync("/login");
        var token = AntiforgeryToken(form);
        return await client.PostAsync("/login", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = token,
            ["_handler"] = "login",
            ["Input.UserName"] = user,
            ["Input.Password"] = password,
        }));
    }

    public static string AntiforgeryToken(string html) =>
        AntiforgeryPattern().Match(html) is { Success: true } m ? WebUtility.HtmlDecode(m.Groups[1].Value) : throw new Xunit.Sdk.XunitException("no antiforgery token in the page");

    public async Task<IReadOnlyList<GalleryImage>> AddImagesAsync(params string[] prompts)
    {
        var store = Services.GetRequiredService<GalleryStore>();
        var rows = new List<GalleryImage>();
        var tone = 10;
        foreach (var prompt in prompts)
        {
            using var image = TestGallery.MakeImage(tone: (byte)(tone += 20));
            rows.Add(await store.SaveAsync(image, TestGallery.Parameters(prompt)));
        }
        return rows;
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        AppFactory.TryDelete(Root);
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryPattern();
}
