package org.diskferry.glance;

import java.nio.file.Path;

/**
 * One OpenStack cloud as diskferry uses it: how to authenticate and where the Image service is.
 * Built by {@link CloudsYaml} from clouds.yaml (+ secure.yaml) or from {@code OS_*} variables.
 *
 * <p>{@link #toString()} masks the secrets; print nothing else of this record.
 *
 * @param name the cloud's name ({@code envvars} for one made of {@code OS_*} variables)
 * @param source where it was read from, for messages
 * @param authType {@code password}, {@code v3applicationcredential}, {@code token} or {@code none}
 * @param authUrl the Keystone URL, with or without {@code /v3}
 * @param username user name (with a user domain)
 * @param userId user id (instead of name + domain)
 * @param password the password (secret)
 * @param userDomain user domain name or id
 * @param projectName project name (with a project domain)
 * @param projectId project id
 * @param projectDomain project domain name or id
 * @param appCredentialId application credential id
 * @param appCredentialName application credential name (needs the user)
 * @param appCredentialSecret application credential secret (secret)
 * @param token a token (secret)
 * @param regionName the wanted region, or null for any
 * @param endpointInterface {@code public}, {@code internal} or {@code admin}
 * @param cacert a CA bundle, or null for the system trust store
 * @param verify false to skip TLS verification
 * @param imageEndpointOverride the Glance URL, bypassing the catalog
 */
public record CloudConfig(
    String name,
    String source,
    String authType,
    String authUrl,
    String username,
    String userId,
    String password,
    Domain userDomain,
    String projectName,
    String projectId,
    Domain projectDomain,
    String appCredentialId,
    String appCredentialName,
    String appCredentialSecret,
    String token,
    String regionName,
    String endpointInterface,
    Path cacert,
    boolean verify,
    String imageEndpointOverride) {

  /** A Keystone domain given by name or by id. */
  public record Domain(String name, String id) {
    /** The {@code Default} domain, which openstacksdk also assumes when none is given. */
    static final Domain DEFAULT = new Domain("Default", null);
  }

  /** The auth type normalised to password, application_credential, token or none. */
  public String method() {
    String t = authType == null ? "password" : authType.toLowerCase(java.util.Locale.ROOT);
    return switch (t) {
      case "password", "v3password" -> "password";
      case "v3applicationcredential", "applicationcredential", "application_credential" ->
          "application_credential";
      case "token", "v3token", "admin_token" -> "token";
      case "none", "noauth", "none_auth" -> "none";
      default -> t;
    };
  }

  @Override
  public String toString() {
    return "CloudConfig[name=" + name + ", source=" + source + ", auth_type=" + method()
        + ", auth_url=" + authUrl + ", username=" + username + ", project=" + projectName
        + (password != null ? ", password=********" : "")
        + (appCredentialSecret != null ? ", application_credential_secret=********" : "")
        + (token != null ? ", token=********" : "")
        + ", region=" + regionName + ", interface=" + endpointInterface + ", verify=" + verify
        + "]";
  }
}
