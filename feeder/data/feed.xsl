<?xml version="1.0" encoding="utf-8"?>
<!--
  Renders the Atom feed as a readable page when it is opened in a browser.
  The feed names this file in <?xml-stylesheet type="text/xsl" href="feed.xsl"?>;
  feed readers ignore it. Plain XSLT 1.0, text only (no disable-output-escaping),
  so every string from the feed is shown as text, never interpreted as markup;
  entry links only to http(s) addresses, and the page forbids scripts with a
  Content-Security-Policy, like index.html.
-->
<xsl:stylesheet version="1.0"
    xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:atom="http://www.w3.org/2005/Atom"
    exclude-result-prefixes="atom">

  <xsl:output method="html" encoding="utf-8" indent="yes"
      doctype-system="about:legacy-compat"/>

  <xsl:template match="/">
    <html>
      <xsl:attribute name="lang">
        <xsl:choose>
          <xsl:when test="atom:feed/@xml:lang"><xsl:value-of select="atom:feed/@xml:lang"/></xsl:when>
          <xsl:otherwise>en</xsl:otherwise>
        </xsl:choose>
      </xsl:attribute>
      <head>
        <meta charset="utf-8"/>
        <meta name="viewport" content="width=device-width, initial-scale=1"/>
        <meta http-equiv="Content-Security-Policy"
            content="default-src 'none'; style-src 'unsafe-inline'"/>
        <meta name="referrer" content="no-referrer"/>
        <title><xsl:value-of select="atom:feed/atom:title"/> (Atom feed)</title>
        <style>
          body{font:16px/1.5 system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;color:#222}
          header{border-bottom:1px solid #ddd;margin-bottom:1.5rem}
          h1{margin:0 0 .25rem}
          .note{background:#fff6e5;border:1px solid #f0d9a8;border-radius:.3rem;padding:.5rem .8rem}
          .sub{color:#555}
          ol{list-style:none;padding:0}
          li{margin:0 0 1.4rem}
          h2{font-size:1.15rem;margin:0}
          .meta{color:#666;font-size:.9rem}
          p.summary{margin:.3rem 0 0}
        </style>
      </head>
      <body>
        <xsl:apply-templates select="atom:feed"/>
      </body>
    </html>
  </xsl:template>

  <xsl:template match="atom:feed">
    <header>
      <p class="note">This is an Atom feed. Copy its address into your feed reader to subscribe.</p>
      <h1><xsl:value-of select="atom:title"/></h1>
      <xsl:if test="atom:subtitle">
        <p class="sub"><xsl:value-of select="atom:subtitle"/></p>
      </xsl:if>
      <p class="meta">
        <xsl:value-of select="count(atom:entry)"/> entries, updated
        <xsl:value-of select="substring(atom:updated, 1, 10)"/>
      </p>
    </header>
    <main>
      <ol>
        <xsl:apply-templates select="atom:entry"/>
      </ol>
    </main>
  </xsl:template>

  <xsl:template match="atom:entry">
    <xsl:variable name="href">
      <xsl:choose>
        <xsl:when test="atom:link[@rel='alternate']">
          <xsl:value-of select="atom:link[@rel='alternate'][1]/@href"/>
        </xsl:when>
        <xsl:otherwise><xsl:value-of select="atom:link[not(@rel)][1]/@href"/></xsl:otherwise>
      </xsl:choose>
    </xsl:variable>
    <xsl:variable name="date">
      <xsl:choose>
        <xsl:when test="atom:published"><xsl:value-of select="atom:published"/></xsl:when>
        <xsl:otherwise><xsl:value-of select="atom:updated"/></xsl:otherwise>
      </xsl:choose>
    </xsl:variable>
    <li>
      <h2>
        <xsl:choose>
          <xsl:when test="starts-with($href, 'https://') or starts-with($href, 'http://')">
            <a href="{$href}" rel="noreferrer"><xsl:value-of select="atom:title"/></a>
          </xsl:when>
          <xsl:otherwise><xsl:value-of select="atom:title"/></xsl:otherwise>
        </xsl:choose>
      </h2>
      <div class="meta">
        <xsl:choose>
          <xsl:when test="atom:source/atom:title">
            <xsl:value-of select="atom:source/atom:title"/>
          </xsl:when>
          <xsl:otherwise>
            <xsl:value-of select="(atom:author/atom:name | ../atom:author/atom:name)[1]"/>
          </xsl:otherwise>
        </xsl:choose>
        <xsl:if test="atom:source/atom:title and atom:author/atom:name
                      and atom:author/atom:name != atom:source/atom:title">
          <xsl:text> · </xsl:text><xsl:value-of select="atom:author/atom:name"/>
        </xsl:if>
        <xsl:text> · </xsl:text>
        <time datetime="{$date}"><xsl:value-of select="substring($date, 1, 10)"/></time>
      </div>
      <xsl:if test="normalize-space(atom:summary)">
        <p class="summary"><xsl:value-of select="atom:summary"/></p>
      </xsl:if>
    </li>
  </xsl:template>
</xsl:stylesheet>
